"""Constants, errors and the command runners every part of the lab uses."""

import json
import os
import re
import subprocess
import sys


REGISTRY = "/run/meshforge-lab"          # one <index>.json per live lab (tmpfs, like /run/netns)
STATE_ROOT = "/tmp/meshforge-lab"        # default state dirs: STATE_ROOT/<lab>
STATE_MARK = ".meshforge-lab"            # a state dir we may delete contains this file
ALIAS_PREFIX = "mflab"                   # ifalias "mflab:<index>:<lab>" on every lab namespace's lo
NS_RE = re.compile(r"^mf(\d+)-")
LAB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LAB_PY = os.path.join(ROOT_DIR, "tests", "lab", "lab.py")        # the command line, which selftest runs
DEFAULT_PRIVATE_DIRS = ["/run/wireguard"]
# /etc entries every host gets a private copy of (bound over /etc/<x> by `ip netns exec`).
ETC_COPY = ["swanctl", "strongswan.d", "strongswan.conf"]               # copied only if present
# created empty (also on the root side): a host starts with no sysctl.d file, whatever the machine has
ETC_EMPTY_DIRS = {"wireguard": 0o700, "ansible": 0o755, "sysctl.d": 0o755}
# Only the options given here: -F /dev/null keeps the machine's ~/.ssh/config and /etc/ssh/ssh_config(.d) out.
# Keepalives turn a connection that died without a FIN into an unreachable host instead of a hang.
SSH_COMMON_ARGS = ("-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                   "-o IdentitiesOnly=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3 "
                   "-o ControlMaster=auto -o ControlPersist=60s")
# Every namespace of a lab starts with these, as on a freshly booted host.  A new namespace otherwise
# inherits the root namespace's IPv4 settings (net.core.devconf_inherit_init_net = 0), forwarding
# included, which podman (netavark), Docker or an earlier test may have turned on.  --sysctl overrides.
DEFAULT_SYSCTLS = {
    "net.ipv4.ip_forward": "0",                  # first: writing it resets every interface's forwarding
    "net.ipv4.conf.all.forwarding": "0",
    "net.ipv4.conf.default.forwarding": "0",
    "net.ipv6.conf.all.forwarding": "0",
    "net.ipv6.conf.default.forwarding": "0",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
}
FORWARDING_ALIASES = {
    "net.ipv4.ip_forward": ["net.ipv4.conf.all.forwarding", "net.ipv4.conf.default.forwarding"],
    "net.ipv6.conf.all.forwarding": ["net.ipv6.conf.default.forwarding"],
}
SYSCTL_KEY_RE = re.compile(r"^net\.[A-Za-z0-9_.-]+$")
# All namespaces share the kernel's neighbour tables: a lab of n hosts needs about 2 n^2 entries
# (IPv6 counts link-local addresses too).  Raised when a lab needs more, restored when the last lab is down.
NEIGH_KEYS = ["net.ipv%d.neigh.default.gc_thresh%d" % (v, i) for v in (4, 6) for i in (1, 2, 3)]


class LabError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, check=True, input=None):
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, check=False)
    if check and p.returncode != 0:
        raise LabError("command failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd),
                                                          p.stdout, p.stderr))
    return p


def run_parallel(jobs, check=True):
    """jobs: list of (argv, stdin-text or None). Runs all at once, returns CompletedProcess-likes."""
    procs = []
    for argv, data in jobs:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append((argv, p, data))
    results, errors = [], []
    for argv, p, data in procs:
        out, err = p.communicate(data)
        results.append((p.returncode, out, err))
        if p.returncode != 0:
            errors.append("command failed (%d): %s\n%s%s" % (p.returncode, " ".join(argv), out, err))
    if check and errors:
        raise LabError("\n".join(errors))
    return results


def ip_batch(lines, ns=None, force=False):
    if not lines:
        return
    cmd = ["ip"] + (["-n", ns] if ns else []) + (["-force"] if force else []) + ["-batch", "-"]
    run(cmd, check=not force, input="\n".join(lines) + "\n")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_file(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
