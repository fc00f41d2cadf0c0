"""meshforge.vpn network-namespace test lab (Python 3 standard library only, run as root).

One "underlay" namespace holds a bridge; every host is a namespace joined to it by
a veth and runs its own sshd; the root namespace (the Ansible controller) is joined
to the bridge too.  Optional LAN namespaces sit behind a host.  See README.md.

  lab.py up --lab NAME --hosts h1,h2,h3 [--lan h3] [--group hubs=h1] [--index N]
            [--sysctl [NS:]KEY=VALUE]
  lab.py down --lab NAME            lab.py down-all
  lab.py inventory --lab NAME [--cat]
  lab.py exec --lab NAME HOST -- CMD...
  lab.py list                       lab.py selftest
"""

import argparse
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

REGISTRY = "/run/meshforge-lab"          # one <index>.json per live lab (tmpfs, like /run/netns)
STATE_ROOT = "/tmp/meshforge-lab"        # default state dirs: STATE_ROOT/<lab>
STATE_MARK = ".meshforge-lab"            # a state dir we may delete contains this file
ALIAS_PREFIX = "mflab"                   # ifalias "mflab:<index>:<lab>" on every lab namespace's lo
NS_RE = re.compile(r"^mf(\d+)-")
LAB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
HOST_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PRIVATE_DIRS = ["/run/wireguard"]
# /etc entries every host gets a private copy of (bound over /etc/<x> by `ip netns exec`).
ETC_COPY = ["swanctl", "strongswan.d", "strongswan.conf"]               # copied only if present
# created empty (also on the root side): a host starts with no sysctl.d file, whatever the machine has
ETC_EMPTY_DIRS = {"wireguard": 0o700, "ansible": 0o755, "sysctl.d": 0o755}
# Only the options given here: -F /dev/null keeps the machine's ~/.ssh/config and /etc/ssh/ssh_config(.d) out.
# Keepalives turn a connection that died without a FIN into an unreachable host instead of a hang.
SSH_COMMON_ARGS = ("-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                   "-o IdentitiesOnly=yes -o ServerAliveInterval=10 -o ServerAliveCountMax=6 "
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
# (IPv6 counts link-local addresses too).  Raised (never lowered) when a lab needs more.
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


# --------------------------------------------------------------------------- discovery

def netns_list():
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def ns_marker(ns):
    """(index, lab) from the lo ifalias of a namespace we made, else None."""
    out = run(["ip", "-n", ns, "-o", "link", "show", "lo"], check=False).stdout
    m = re.search(r"alias %s:(\d+):(\S+)" % ALIAS_PREFIX, out)
    return (int(m.group(1)), m.group(2)) if m else None


def link_alias(name):
    out = run(["ip", "-o", "link", "show", "dev", name], check=False).stdout
    m = re.search(r"alias (\S+)", out)
    return m.group(1) if m else None


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


def registry_entries():
    out = []
    if os.path.isdir(REGISTRY):
        for fn in sorted(os.listdir(REGISTRY)):
            if fn.endswith(".json"):
                st = read_json(os.path.join(REGISTRY, fn))
                if st:
                    out.append(st)
    return out


class Lock:
    def __enter__(self):
        os.makedirs(REGISTRY, exist_ok=True)
        self.fd = os.open(os.path.join(REGISTRY, ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *a):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def default_state_dir(lab):
    return os.path.join(STATE_ROOT, lab)


def find_states(lab, state_dir=None):
    """All recorded states (state dir + registry) for a lab name."""
    states = []
    for path in (os.path.join(state_dir or default_state_dir(lab), "state.json"),):
        st = read_json(path)
        if st and st.get("lab") == lab:
            states.append(st)
    for st in registry_entries():
        if st.get("lab") == lab and st not in states:
            states.append(st)
    return states


# --------------------------------------------------------------------------- plan

def ns_name(index, host):
    return "mf%d-%s" % (index, host)


def plan_lab(lab, index, hosts, lans, groups, state_dir, private_dirs, sysctls=None):
    n = index
    st = {
        "lab": lab, "index": n, "state_dir": state_dir, "status": "creating",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "underlay_ns": ns_name(n, "underlay"),
        "root_link": "mf%d-root" % n,
        "controller_ipv4": "198.18.%d.254" % n, "controller_ipv6": "fd18:%d::254" % n,
        "underlay_prefix4": "198.18.%d.0/24" % n, "underlay_prefix6": "fd18:%d::/64" % n,
        "client_key": os.path.join(state_dir, "id_ed25519"),
        "inventory": os.path.join(state_dir, "inventory.yml"),
        "ssh_config": os.path.join(state_dir, "ssh_config"),
        "private_dirs": private_dirs,
        "groups": groups,
        "hosts": {},
    }
    cp_dir = os.path.join(state_dir, "cp")
    if len(cp_dir) + 1 + 40 + 18 > 100:       # %C is 40 chars; ssh adds a temporary suffix
        cp_dir = "/tmp/mfcp%d" % n
    st["cp_dir"] = cp_dir
    for i, h in enumerate(hosts, start=1):
        hd = os.path.join(state_dir, "hosts", h)
        hv = {
            "index": i, "netns": ns_name(n, h),
            "ipv4": "198.18.%d.%d" % (n, 10 + i), "ipv6": "fd18:%d::%d" % (n, 10 + i),
            "dir": hd, "sshd_config": os.path.join(hd, "sshd_config"),
            "sshd_pid_file": os.path.join(hd, "sshd.pid"), "sshd_log": os.path.join(hd, "sshd.log"),
            "private_dirs": {p: os.path.join(hd, "private", p.strip("/").replace("/", "_"))
                             for p in private_dirs},
        }
        if h in lans:
            o = 10 + i
            hv["lan"] = {
                "netns": ns_name(n, h + "l"), "interface": "lan0",
                "prefix": "198.19.%d.0/24" % o, "gateway": "198.19.%d.1" % o, "host": "198.19.%d.2" % o,
                "prefix6": "fd19:%d:%d::/64" % (n, o), "gateway6": "fd19:%d:%d::1" % (n, o),
                "host6": "fd19:%d:%d::2" % (n, o),
            }
        st["hosts"][h] = hv
    st["namespaces"] = ([st["underlay_ns"]] + [hv["netns"] for hv in st["hosts"].values()]
                        + [hv["lan"]["netns"] for hv in st["hosts"].values() if "lan" in hv])
    st["sysctls"] = {}
    for ns in st["namespaces"]:
        short = ns.split("-", 1)[1]
        given = {}
        for target, key, value in sysctls or []:
            if target in (None, short):
                given[key] = value
        # forwarding switched as a whole, as writing ip_forward (or IPv6 all) does on a running host:
        # links made after (eth0, lan0) take the defaults
        for key, same in FORWARDING_ALIASES.items():
            if key in given:
                for other in same:
                    given.setdefault(other, given[key])
        wanted = {k: v for k, v in DEFAULT_SYSCTLS.items() if k not in given}
        wanted.update(given)                   # written after the defaults, in the order given
        st["sysctls"][ns] = wanted
    return st


def parse_sysctls(specs, names):
    """--sysctl [NS:]KEY=VALUE -> [(NS or None, KEY, VALUE)]; NS is a host, a LAN (<host>l) or underlay."""
    out = []
    for spec in specs or []:
        head, sep, value = spec.partition("=")
        parts = head.rpartition(":")
        target, key = parts[0] or None, parts[2]
        if not sep or not SYSCTL_KEY_RE.match(key) or not re.match(r"^[A-Za-z0-9 ._:-]*$", value):
            raise LabError("--sysctl wants [NS:]net.KEY=VALUE: %r" % spec)
        if target is not None and target not in names:
            raise LabError("--sysctl %s: no namespace %r in this lab (%s)" % (spec, target, ", ".join(names)))
        out.append((target, key, value))
    return out


def set_sysctls(st):
    """Write every namespace's sysctls (in parallel), from inside it; fails on a key that does not exist."""
    jobs = []
    for ns, values in st["sysctls"].items():
        argv = ["nsenter", "--net=/run/netns/%s" % ns, "--", "sysctl", "-q", "-w"]
        jobs.append((argv + ["%s=%s" % kv for kv in values.items()], None))
    run_parallel(jobs)


def ensure_neigh_limits(n_hosts):
    need = max(1024, 2 * (n_hosts + 2) ** 2)
    try:
        with open("/proc/sys/net/ipv4/neigh/default/gc_thresh3") as f:
            have = int(f.read())
    except (OSError, ValueError):
        return
    if have >= need:
        return
    for key in NEIGH_KEYS:
        value = need // 4 if key.endswith("1") else need // 2 if key.endswith("2") else need
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write("%d\n" % value)
    log("neighbour tables: gc_thresh1/2/3 raised to %d/%d/%d for %d hosts (not lowered again)"
        % (need // 4, need // 2, need, n_hosts))


def allocate_index(lab, wanted, previous):
    used = {}
    for st in registry_entries():
        used[st["index"]] = st["lab"]
    for ns in netns_list():
        m = NS_RE.match(ns)
        if m:
            used.setdefault(int(m.group(1)), "?")
    if wanted is not None:
        if used.get(wanted, lab) != lab:
            raise LabError("index %d is in use by lab %r" % (wanted, used[wanted]))
        return wanted
    for cand in previous:
        if used.get(cand, lab) == lab:
            return cand
    for cand in range(1, 255):
        if cand not in used:
            return cand
    raise LabError("no free lab index")


# --------------------------------------------------------------------------- down

def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pids(pids, timeout=3.0):
    pids = {p for p in pids if p != os.getpid()}
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.time() + timeout
    while pids and time.time() < deadline:
        pids = {p for p in pids if proc_alive(p)}
        if pids:
            time.sleep(0.01)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ns_pids(ns):
    out = run(["ip", "netns", "pids", ns], check=False).stdout
    return {int(x) for x in out.split() if x.isdigit()}


def pids_matching(needle):
    pids = set()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if needle in f.read():
                        pids.add(int(d))
            except OSError:
                pass
    return pids


def control_master_pids(cp_dir):
    """ssh ControlPersist masters (in the root namespace) whose socket is in cp_dir."""
    pids = set()
    if not cp_dir:
        return pids
    needle = (cp_dir.rstrip("/") + "/").encode()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
            except OSError:
                continue
            if needle in cmd and cmd.startswith(b"ssh"):
                pids.add(int(d))
    return pids


def teardown(labs, keep_state=False, quiet=False):
    """labs: {lab_name: [state dicts]} -- removes everything those labs made."""
    all_ns = netns_list()
    markers = {ns: ns_marker(ns) for ns in all_ns if NS_RE.match(ns)}
    for lab, states in labs.items():
        indices = {st["index"] for st in states}
        namespaces = set()
        for st in states:
            namespaces.update(ns for ns in st.get("namespaces", []) if ns in all_ns)
        for ns, mk in markers.items():
            if mk and mk[1] == lab:
                namespaces.add(ns)
                indices.add(mk[0])
                if ns == ns_name(mk[0], "underlay") and not any(s["index"] == mk[0] for s in states):
                    out = run(["ip", "-n", ns, "-o", "link", "show", "br0"], check=False).stdout
                    m = re.search(r"alias (/\S+)", out)
                    st = read_json(os.path.join(m.group(1), "state.json")) if m else None
                    if st and st.get("lab") == lab and st.get("index") == mk[0]:
                        states = states + [st]
                        namespaces.update(n for n in st.get("namespaces", []) if n in all_ns)
        # never touch a namespace that carries another lab's marker
        namespaces = {ns for ns in namespaces if markers.get(ns) is None or markers[ns][1] == lab}
        pids = set()
        for ns in namespaces:
            pids |= ns_pids(ns)
        kill_pids(pids)
        cps = set()
        for st in states:
            cps |= control_master_pids(st.get("cp_dir"))
        kill_pids(cps, timeout=1.0)
        lines = []
        for n in indices:                      # root side veth: delete synchronously
            rl = "mf%d-root" % n
            if link_alias(rl) == "%s:%d:%s" % (ALIAS_PREFIX, n, lab):
                lines.append("link del %s" % rl)
        lines += ["netns del %s" % ns for ns in sorted(namespaces)]
        ip_batch(lines, force=True)
        etc_dirs = set(namespaces)
        for st in states:
            etc_dirs.update(st.get("namespaces", []))
        for ns in etc_dirs:
            shutil.rmtree(os.path.join("/etc/netns", ns), ignore_errors=True)
        for st in states:
            sd = st.get("state_dir")
            if not keep_state and sd and os.path.exists(os.path.join(sd, STATE_MARK)):
                shutil.rmtree(sd, ignore_errors=True)
            cp = st.get("cp_dir")
            if cp and cp.startswith("/tmp/mfcp"):
                shutil.rmtree(cp, ignore_errors=True)
        for n in indices:
            reg = read_json(os.path.join(REGISTRY, "%d.json" % n))
            if reg is None or reg.get("lab") == lab:
                try:
                    os.unlink(os.path.join(REGISTRY, "%d.json" % n))
                except FileNotFoundError:
                    pass
        if not quiet:
            log("down %s: %d namespaces, %d processes removed" % (lab, len(namespaces), len(pids)))


# --------------------------------------------------------------------------- up

def sshd_config(st, h, hv):
    return "\n".join([
        "# meshforge lab %s host %s" % (st["lab"], h),
        "Port 22",
        "ListenAddress %s" % hv["ipv4"],
        "ListenAddress %s" % hv["ipv6"],
        "HostKey %s" % os.path.join(hv["dir"], "ssh_host_ed25519_key"),
        "PidFile %s" % hv["sshd_pid_file"],
        "AuthorizedKeysFile %s" % os.path.join(st["state_dir"], "authorized_keys"),
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "StrictModes no",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "MaxStartups 100:30:200",
        "MaxSessions 100",
        "Subsystem sftp internal-sftp",
        "",
    ])


def yq(v):
    """YAML scalar (JSON strings are valid YAML double-quoted scalars)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))


def inventory_text(st):
    out = ["# generated by tests/lab/lab.py: lab %r, index %d" % (st["lab"], st["index"]),
           "all:", "  hosts:"]
    common = "%s -o ControlPath=%s/%%C" % (SSH_COMMON_ARGS, st["cp_dir"])
    for h, hv in st["hosts"].items():
        hvars = [
            ("ansible_host", hv["ipv4"]),
            ("ansible_user", "root"),
            ("ansible_ssh_private_key_file", st["client_key"]),
            ("ansible_ssh_common_args", common),
            ("ansible_ssh_use_tty", False),
            ("ansible_ssh_pipelining", True),
            ("ansible_python_interpreter", "/usr/bin/python3"),
            ("lab_name", st["lab"]),
            ("lab_index", st["index"]),
            ("lab_netns", hv["netns"]),
            ("lab_underlay_ipv4", hv["ipv4"]),
            ("lab_underlay_ipv6", hv["ipv6"]),
            ("lab_underlay_prefix4", st["underlay_prefix4"]),
            ("lab_underlay_prefix6", st["underlay_prefix6"]),
            ("lab_controller_ipv4", st["controller_ipv4"]),
            ("lab_controller_ipv6", st["controller_ipv6"]),
        ]
        if "lan" in hv:
            lan = hv["lan"]
            hvars += [("lab_lan_prefix", lan["prefix"]), ("lab_lan_host", lan["host"]),
                      ("lab_lan_gateway", lan["gateway"]), ("lab_lan_interface", lan["interface"]),
                      ("lab_lan_prefix6", lan["prefix6"]), ("lab_lan_host6", lan["host6"]),
                      ("lab_lan_gateway6", lan["gateway6"]), ("lab_lan_netns", lan["netns"])]
        out.append("    %s:" % h)
        out += ["      %s: %s" % (k, yq(v)) for k, v in hvars]
    if st["groups"]:
        out.append("  children:")
        for g, members in st["groups"].items():
            out.append("    %s:" % g)
            out.append("      hosts:")
            out += ["        %s: {}" % m for m in members]
    return "\n".join(out) + "\n"


def ssh_config_text(st):
    out = []
    for h, hv in st["hosts"].items():
        out += ["Host %s %s" % (h, hv["ipv4"]), "  HostName %s" % hv["ipv4"], "  User root",
                "  IdentityFile %s" % st["client_key"], "  IdentitiesOnly yes",
                "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null", "  LogLevel ERROR",
                "  ControlMaster auto", "  ControlPersist 60s", "  ControlPath %s/%%C" % st["cp_dir"], ""]
    return "\n".join(out)


def hosts_file(st, me):
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "127.0.1.1\t%s" % me]
    for h, hv in st["hosts"].items():
        lines += ["%s\t%s" % (hv["ipv4"], h), "%s\t%s" % (hv["ipv6"], h)]
    return "\n".join(lines) + "\n"


def package_files_only(directory, names):
    """copytree filter: swanctl's sub-directories (conf.d, x509, private, ...) start empty, as the package
    installs them; connections, keys or certificates someone left on this machine stay out of the hosts."""
    if os.path.dirname(directory.rstrip("/")) == "/etc/swanctl" or directory.startswith("/etc/swanctl/"):
        return [n for n in names if not os.path.isdir(os.path.join(directory, n))]
    return []


def make_etc(st, h, hv):
    base = os.path.join("/etc/netns", hv["netns"])
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base, mode=0o755)
    for d, mode in ETC_EMPTY_DIRS.items():
        if not os.path.isdir(os.path.join("/etc", d)):   # `ip netns exec` needs the target to exist
            os.makedirs(os.path.join("/etc", d), mode=mode, exist_ok=True)
        os.mkdir(os.path.join(base, d), mode)
    for x in ETC_COPY:
        src = os.path.join("/etc", x)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(base, x), symlinks=True, ignore=package_files_only)
        elif os.path.isfile(src):
            shutil.copy2(src, os.path.join(base, x))
    write_file(os.path.join(base, "hostname"), h + "\n")
    write_file(os.path.join(base, "hosts"), hosts_file(st, h))


def wait_ports(addrs, timeout):
    pending = set(addrs)
    deadline = time.time() + timeout
    while pending:
        for a in list(pending):
            s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
            s.settimeout(0.2)
            try:
                s.connect((a, 22))
                pending.discard(a)
            except OSError:
                pass
            finally:
                s.close()
        if pending:
            if time.time() > deadline:
                raise LabError("sshd did not come up on %s" % ", ".join(sorted(pending)))
            time.sleep(0.01)


def save_state(st):
    text = json.dumps(st, indent=2) + "\n"
    write_file(os.path.join(st["state_dir"], "state.json"), text)
    write_file(os.path.join(REGISTRY, "%d.json" % st["index"]), text)


def parse_groups(specs, hosts):
    groups = {}
    for spec in specs or []:
        if "=" not in spec:
            raise LabError("--group wants NAME=h1,h2: %r" % spec)
        g, members = spec.split("=", 1)
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", g) or g in ("all", "ungrouped"):
            raise LabError("bad group name %r" % g)
        ms = [m for m in members.split(",") if m]
        for m in ms:
            if m not in hosts:
                raise LabError("group %s: unknown host %r" % (g, m))
        groups.setdefault(g, [])
        groups[g] += [m for m in ms if m not in groups[g]]
    return groups


def cmd_up(args):
    lab = args.lab
    hosts = [h for h in args.hosts.split(",") if h]
    lans = []
    for spec in args.lan or []:
        lans += [x for x in spec.split(",") if x]
    for h in hosts:
        if not HOST_RE.match(h) or len(h) > 20 or h == "underlay" or h == "root":
            raise LabError("bad host name %r (lowercase letters, digits, '-'; max 20)" % h)
    if len(set(hosts)) != len(hosts) or not hosts or len(hosts) > 200:
        raise LabError("need 1..200 distinct hosts")
    for h in lans:
        if h not in hosts:
            raise LabError("--lan %s: not a lab host" % h)
        if h + "l" in hosts:
            raise LabError("--lan %s: LAN namespace name collides with host %sl" % (h, h))
    private_dirs = DEFAULT_PRIVATE_DIRS + [p for p in (args.private_dir or []) if p not in DEFAULT_PRIVATE_DIRS]
    for p in private_dirs:
        if not p.startswith("/") or p.rstrip("/") in ("", "/run", "/etc", "/tmp"):
            raise LabError("--private-dir wants an absolute sub-directory: %r" % p)
    groups = parse_groups(args.group, hosts)
    sysctls = parse_sysctls(args.sysctl, ["underlay"] + hosts + [h + "l" for h in lans])
    state_dir = os.path.abspath(args.state_dir or default_state_dir(lab))
    t0 = time.time()
    with Lock():
        old = find_states(lab, args.state_dir)
        teardown({lab: old}, quiet=True)
        index = allocate_index(lab, args.index, [s["index"] for s in old])
        st = plan_lab(lab, index, hosts, lans, groups, state_dir, private_dirs, sysctls)
        if os.path.exists(state_dir) and not os.path.exists(os.path.join(state_dir, STATE_MARK)) \
                and os.listdir(state_dir):
            raise LabError("state dir %s exists and was not made by this tool" % state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        os.makedirs(state_dir, mode=0o700)
        write_file(os.path.join(state_dir, STATE_MARK), "meshforge lab %s\n" % lab)
        save_state(st)                         # recorded before anything is created: crash-safe
        try:
            bring_up(st)
        except BaseException:
            if not args.keep_on_failure:
                teardown({lab: [st]}, quiet=True)
            raise
    hosts = ", ".join("%s=%s" % (h, hv["ipv4"]) for h, hv in st["hosts"].items())
    log("lab %s (index %d) up in %.2fs: %s" % (lab, index, time.time() - t0, hosts))
    print(st["inventory"])
    return 0


def bring_up(st):
    n, lab, sd = st["index"], st["lab"], st["state_dir"]
    alias = "%s:%d:%s" % (ALIAS_PREFIX, n, lab)
    os.makedirs(st["cp_dir"], mode=0o700, exist_ok=True)
    # keys (in background while the network is built)
    keygen = [["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "meshforge-lab-%s" % lab,
               "-f", st["client_key"]]]
    for h, hv in st["hosts"].items():
        os.makedirs(hv["dir"], mode=0o700)
        for p in hv["private_dirs"].values():
            os.makedirs(p, mode=0o700)
        keygen.append(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "%s-%s" % (lab, h),
                       "-f", os.path.join(hv["dir"], "ssh_host_ed25519_key")])
    kprocs = [subprocess.Popen(k, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for k in keygen]

    ul, rl = st["underlay_ns"], st["root_link"]
    ip_batch(["netns add %s" % ns for ns in st["namespaces"]])
    set_sysctls(st)                            # before any link exists, so every link gets the defaults
    ensure_neigh_limits(len(st["hosts"]))
    root = []
    root.append("link add %s type veth peer name vr netns %s" % (rl, ul))
    for h, hv in st["hosts"].items():
        root.append("link add eth0 netns %s type veth peer name v%d netns %s" % (hv["netns"], hv["index"], ul))
        if "lan" in hv:
            root.append("link add lan0 netns %s type veth peer name eth0 netns %s" % (hv["netns"], hv["lan"]["netns"]))
    root += ["link set %s alias %s" % (rl, alias),
             "addr add %s/24 dev %s" % (st["controller_ipv4"], rl),
             "addr add %s/64 dev %s nodad" % (st["controller_ipv6"], rl),
             "link set %s up" % rl]
    ip_batch(root)

    jobs = []
    u = ["link set lo alias %s" % alias, "link set lo up",
         "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0", "link set br0 up",
         "link set br0 alias %s" % sd,           # lets down/down-all find the state dir from the netns
         "link set vr master br0", "link set vr up"]
    for hv in st["hosts"].values():
        u += ["link set v%d master br0" % hv["index"], "link set v%d up" % hv["index"]]
    jobs.append((["ip", "-n", ul, "-batch", "-"], "\n".join(u) + "\n"))
    for h, hv in st["hosts"].items():
        b = ["link set lo alias %s" % alias, "link set lo up",
             "addr add %s/24 dev eth0" % hv["ipv4"], "addr add %s/64 dev eth0 nodad" % hv["ipv6"],
             "link set eth0 up"]
        if "lan" in hv:
            lan = hv["lan"]
            b += ["addr add %s/24 dev lan0" % lan["gateway"], "addr add %s/64 dev lan0 nodad" % lan["gateway6"],
                  "link set lan0 up"]
            lb = ["link set lo alias %s" % alias, "link set lo up",
                  "addr add %s/24 dev eth0" % lan["host"], "addr add %s/64 dev eth0 nodad" % lan["host6"],
                  "link set eth0 up", "route add default via %s" % lan["gateway"],
                  "route add default via %s" % lan["gateway6"]]
            jobs.append((["ip", "-n", lan["netns"], "-batch", "-"], "\n".join(lb) + "\n"))
        jobs.append((["ip", "-n", hv["netns"], "-batch", "-"], "\n".join(b) + "\n"))
    run_parallel(jobs)

    for ns in st["namespaces"]:                # a leftover /etc/netns/<ns> would be bound over /etc
        shutil.rmtree(os.path.join("/etc/netns", ns), ignore_errors=True)
    for h, hv in st["hosts"].items():
        make_etc(st, h, hv)
    for p in st["private_dirs"]:
        os.makedirs(p, exist_ok=True)          # bind-mount target on the root side
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    for k, p in zip(keygen, kprocs):
        err = p.communicate()[1]
        if p.returncode != 0:
            raise LabError("ssh-keygen failed: %s %s" % (" ".join(k), err.decode()))
    with open(st["client_key"] + ".pub") as f:
        write_file(os.path.join(sd, "authorized_keys"), f.read())
    write_file(st["inventory"], inventory_text(st))
    write_file(st["ssh_config"], ssh_config_text(st))

    launch = []
    for h, hv in st["hosts"].items():
        write_file(hv["sshd_config"], sshd_config(st, h, hv))
        script = ["set -e"]
        script += ["mount --bind %s %s" % (shlex.quote(src), shlex.quote(dst))
                   for dst, src in hv["private_dirs"].items()]
        script += ["echo %s > /proc/sys/kernel/hostname" % h,
                   "exec /usr/sbin/sshd -f %s -E %s" % (shlex.quote(hv["sshd_config"]), shlex.quote(hv["sshd_log"]))]
        launch.append((["ip", "netns", "exec", hv["netns"], "unshare", "--uts", "sh", "-c", "; ".join(script)], None))
    run_parallel(launch)
    wait_ports([hv["ipv4"] for hv in st["hosts"].values()], timeout=15)
    st["status"] = "up"
    for hv in st["hosts"].values():
        try:
            with open(hv["sshd_pid_file"]) as f:
                hv["sshd_pid"] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    save_state(st)


# --------------------------------------------------------------------------- other commands

def cmd_down(args):
    with Lock():
        states = find_states(args.lab, args.state_dir)
        teardown({args.lab: states}, keep_state=args.keep_state)
    return 0


def cmd_down_all(args):
    with Lock():
        labs = {}
        for st in registry_entries():
            labs.setdefault(st["lab"], []).append(st)
        if os.path.isdir(STATE_ROOT):
            for d in os.listdir(STATE_ROOT):
                st = read_json(os.path.join(STATE_ROOT, d, "state.json"))
                if st and st.get("lab") and st not in labs.get(st["lab"], []):
                    labs.setdefault(st["lab"], []).append(st)
        for ns in netns_list():
            if NS_RE.match(ns):
                mk = ns_marker(ns)
                if mk:
                    labs.setdefault(mk[1], [])
                else:
                    log("leaving %s alone: no meshforge lab marker" % ns)
        teardown(labs, keep_state=args.keep_state)
        if not labs:
            log("no labs")
    return 0


def load_lab(args):
    states = [s for s in find_states(args.lab, args.state_dir) if s.get("status") == "up"]
    if not states:
        raise LabError("lab %r is not up" % args.lab)
    return states[0]


def cmd_inventory(args):
    st = load_lab(args)
    if args.cat:
        with open(st["inventory"]) as f:
            sys.stdout.write(f.read())
    else:
        print(st["inventory"])
    return 0


def cmd_exec(args):
    """Run a command inside a host with the host's mounts (nsenter into its sshd)."""
    st = load_lab(args)
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        raise LabError("exec: no command")
    if args.host in st["hosts"]:
        hv = st["hosts"][args.host]
        with open(hv["sshd_pid_file"]) as f:
            pid = f.read().strip()
        argv = ["nsenter", "-t", pid, "-m", "-n", "-u", "--"] + cmd
    else:
        lan_ns = {hv["lan"]["netns"]: hv for hv in st["hosts"].values() if "lan" in hv}
        name = ns_name(st["index"], args.host)
        if name not in lan_ns:
            raise LabError("no host or LAN %r in lab %s" % (args.host, st["lab"]))
        argv = ["ip", "netns", "exec", name] + cmd
    os.execvp(argv[0], argv)


def cmd_list(args):
    for st in registry_entries():
        print("%-16s index=%-3d status=%-8s hosts=%s state=%s" % (
            st["lab"], st["index"], st.get("status"), ",".join(st["hosts"]), st["state_dir"]))
    return 0


# --------------------------------------------------------------------------- selftest

def cmd_selftest(args):
    me = [sys.executable, os.path.abspath(__file__)]
    lab = args.lab or "selftest"
    ansible = args.ansible or os.path.join(ROOT_DIR, ".venv", "bin", "ansible")
    failures = []

    def check(name, ok, detail=""):
        print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail.strip()) if detail and not ok else ""),
              flush=True)
        if not ok:
            failures.append(name)

    def sh(argv, timeout=60):
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)

    before = set(netns_list())
    t_up4 = t_down = 0.0
    t = time.time()
    p = sh(me + ["up", "--lab", lab, "--hosts", "h1,h2,h3", "--lan", "h3", "--group", "hubs=h1",
                 "--group", "spokes=h2,h3"])
    t_up = time.time() - t
    check("up (%.2fs)" % t_up, p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return 1
    try:
        inv = p.stdout.strip()
        st = read_json(os.path.join(os.path.dirname(inv), "state.json"))
        sshc = st["ssh_config"]
        check("inventory command", sh(me + ["inventory", "--lab", lab]).stdout.strip() == inv)
        for h, hv in st["hosts"].items():
            r = sh(["ssh", "-F", sshc, h, "hostname; ip -br addr show eth0"])
            check("ssh %s" % h, r.returncode == 0 and r.stdout.startswith(h + "\n") and hv["ipv4"] in r.stdout,
                  r.stdout + r.stderr)
        env = dict(os.environ, ANSIBLE_LOCAL_TEMP=os.path.join(st["state_dir"], "ansible-tmp"))
        t = time.time()
        r = sh([ansible, "-i", inv, "all", "-m", "ansible.builtin.ping"], timeout=120)
        check("ansible ping (%.2fs)" % (time.time() - t),
              r.returncode == 0 and r.stdout.count("SUCCESS") == 3, r.stdout + r.stderr)
        r = sh([ansible, "-i", inv, "spokes", "--list-hosts"])
        check("inventory groups", r.returncode == 0 and "h2" in r.stdout and "h1" not in r.stdout, r.stdout + r.stderr)
        r = sh([ansible, "-i", inv, "h3", "-m", "ansible.builtin.debug", "-a", "var=lab_lan_prefix"])
        check("lab_lan_prefix var", st["hosts"]["h3"]["lan"]["prefix"] in r.stdout, r.stdout + r.stderr)
        # underlay connectivity between hosts, v4 and v6 (from inside h1 via ssh)
        for src, dst in (("h1", "h2"), ("h2", "h3"), ("h3", "h1")):
            for fam in ("ipv4", "ipv6"):
                addr = st["hosts"][dst][fam]
                r = sh(["ssh", "-F", sshc, src, "ping -c1 -W2 %s" % addr])
                check("ping %s -> %s %s" % (src, dst, addr), r.returncode == 0, r.stdout + r.stderr)
        # forwarding off everywhere, whatever the root namespace has
        for ns in st["namespaces"]:
            r = sh(["nsenter", "--net=/run/netns/" + ns, "sysctl", "-n", "net.ipv4.ip_forward",
                    "net.ipv4.conf.eth0.forwarding" if ns != st["underlay_ns"] else "net.ipv4.conf.br0.forwarding",
                    "net.ipv6.conf.all.forwarding"])
            check("forwarding off in %s" % ns, r.returncode == 0 and r.stdout.split() == ["0", "0", "0"],
                  r.stdout + r.stderr)
        lan = st["hosts"]["h3"]["lan"]
        r = sh(["ssh", "-F", sshc, "h3", "ping -c1 -W2 %s && ping -c1 -W2 %s" % (lan["host"], lan["host6"])])
        check("ping h3 -> LAN host", r.returncode == 0, r.stdout + r.stderr)
        r = sh(["ip", "netns", "exec", lan["netns"], "ping", "-c1", "-W2", lan["gateway"]])
        check("ping LAN host -> h3", r.returncode == 0, r.stdout + r.stderr)
        # per-host /etc and /run/wireguard: wireguard-go wg0 on two hosts, no collision
        for h in ("h1", "h2"):
            r = sh(["ssh", "-F", sshc, h, "wireguard-go wg0 && umask 077 && wg genkey > /etc/wireguard/%s.key "
                                          "&& wg set wg0 private-key /etc/wireguard/%s.key listen-port 51820" % (h, h)])
            check("wireguard-go wg0 on %s" % h, r.returncode == 0, r.stdout + r.stderr)
        time.sleep(0.2)
        for h in ("h1", "h2"):
            r = sh(["ssh", "-F", sshc, h, "ls /run/wireguard /etc/wireguard; wg show wg0 listen-port; "
                                          "ip -br link show wg0"])
            other = "h2" if h == "h1" else "h1"
            check("wg0 on %s is private and survived the ssh session" % h,
                  r.returncode == 0 and "wg0.sock" in r.stdout and "%s.key" % h in r.stdout
                  and "%s.key" % other not in r.stdout and "51820" in r.stdout, r.stdout + r.stderr)
        check("root /run/wireguard untouched", not os.path.exists("/run/wireguard/wg0.sock"))
        check("root /etc/wireguard untouched", not os.path.exists("/etc/wireguard/h1.key"))
        r = sh(me + ["exec", "--lab", lab, "h2", "--", "wg", "show", "wg0", "listen-port"])
        check("lab.py exec sees h2's wg0", r.returncode == 0 and "51820" in r.stdout, r.stdout + r.stderr)
        for h in ("h1", "h2"):
            wgpids = [p for p in ns_pids(st["hosts"][h]["netns"])
                      if pids_matching(b"wireguard-go\x00wg0\x00") & {p}]
            r = sh(["ssh", "-F", sshc, h, "ip link del wg0 && rm /etc/wireguard/%s.key && sleep 0.3 && "
                                          "test ! -e /run/wireguard/wg0.sock" % h])
            check("remove wg0 on %s (wireguard-go exits)" % h,
                  r.returncode == 0 and len(wgpids) == 1 and not proc_alive(wgpids[0]), r.stdout + r.stderr)
        # leave a process behind in h1 on purpose: down must kill it
        sh(["ssh", "-F", sshc, "h1", "setsid sleep 987654 </dev/null >/dev/null 2>&1 &"])
        # idempotent re-up (same lab, same index)
        t = time.time()
        p = sh(me + ["up", "--lab", lab, "--hosts", "h1,h2,h3,h4", "--lan", "h3", "--sysctl", "h3:net.ipv4.ip_forward=1"])
        t_up4 = time.time() - t
        st4 = read_json(os.path.join(os.path.dirname(p.stdout.strip() or inv), "state.json")) or {}
        check("re-up with 4 hosts (%.2fs)" % t_up4, p.returncode == 0 and st4.get("index") == st["index"],
              p.stderr)
        h3 = st4.get("hosts", {}).get("h3", {})
        r = sh(["ssh", "-F", sshc, "h4", "ip route add %s via %s && ping -c1 -W2 %s" % (
            h3.get("lan", {}).get("prefix"), h3.get("ipv4"), h3.get("lan", {}).get("host"))])
        check("--sysctl h3:net.ipv4.ip_forward=1: h4 reaches h3's LAN host through h3", r.returncode == 0,
              r.stdout + r.stderr)
        r = sh([ansible, "-i", inv, "all", "-m", "ansible.builtin.ping"], timeout=120)
        check("ansible ping 4 hosts", r.returncode == 0 and r.stdout.count("SUCCESS") == 4, r.stdout + r.stderr)
    finally:
        t = time.time()
        p = sh(me + ["down", "--lab", lab])
        t_down = time.time() - t
        check("down (%.2fs)" % t_down, p.returncode == 0, p.stderr)
    left = [ns for ns in set(netns_list()) - before if NS_RE.match(ns)]
    check("no namespaces left", not left, " ".join(left))
    check("no processes of the lab left", not pids_matching(st["state_dir"].encode())
          and not pids_matching(b"sleep\x00987654\x00"))
    check("state dir removed", not os.path.exists(st["state_dir"]))
    check("/etc/netns dirs removed", not any(os.path.exists("/etc/netns/" + ns) for ns in st["namespaces"]))
    p = sh(me + ["down", "--lab", lab])
    check("second down is a no-op", p.returncode == 0, p.stderr)
    print("selftest: %s (up 3 hosts %.2fs, up 4 hosts %.2fs, down %.2fs)" % (
        "FAILED: " + ", ".join(failures) if failures else "passed", t_up, t_up4, t_down))
    return 1 if failures else 0


# --------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    def lab_args(p, required=True):
        p.add_argument("--lab", required=required and not os.environ.get("MESHFORGE_LAB"),
                       default=os.environ.get("MESHFORGE_LAB"), help="lab name (env MESHFORGE_LAB)")
        p.add_argument("--state-dir", help="default %s/<lab>" % STATE_ROOT)

    p = sub.add_parser("up", help="create (or re-create) a lab")
    lab_args(p)
    p.add_argument("--hosts", required=True, help="comma separated host names, e.g. h1,h2,h3")
    p.add_argument("--lan", action="append", help="HOST: add a LAN namespace routed behind HOST (repeatable)")
    p.add_argument("--group", action="append", help="NAME=h1,h2: inventory group (repeatable)")
    p.add_argument("--index", type=int, choices=range(1, 255), metavar="N",
                   help="lab index N (addresses 198.18.N.0/24); default: previous or lowest free")
    p.add_argument("--private-dir", action="append",
                   help="extra directory made per host by a bind mount (default only /run/wireguard)")
    p.add_argument("--sysctl", action="append", metavar="[NS:]KEY=VALUE",
                   help="set a net.* sysctl in every namespace, or only in NS (a host, <host>l for its LAN, "
                        "underlay), after the defaults (forwarding and rp_filter off); repeatable")
    p.add_argument("--keep-on-failure", action="store_true", help="do not clean up when up fails")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("down", help="remove a lab (idempotent)")
    lab_args(p)
    p.add_argument("--keep-state", action="store_true")
    p.set_defaults(func=cmd_down)

    p = sub.add_parser("down-all", help="remove every lab made by this tool")
    p.add_argument("--keep-state", action="store_true")
    p.set_defaults(func=cmd_down_all)

    p = sub.add_parser("inventory", help="print the inventory path (--cat: contents)")
    lab_args(p)
    p.add_argument("--cat", action="store_true")
    p.set_defaults(func=cmd_inventory)

    p = sub.add_parser("exec", help="run a command in a host (its netns, mounts and hostname) or LAN")
    lab_args(p)
    p.add_argument("host")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)

    p = sub.add_parser("list", help="list live labs")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("selftest", help="bring up a 3-host lab, check ssh/ansible/ping/wireguard-go, tear down")
    p.add_argument("--lab", default=None, help="default: selftest")
    p.add_argument("--ansible", help="ansible binary (default: <repo>/.venv/bin/ansible)")
    p.set_defaults(func=cmd_selftest)

    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        log("lab.py must run as root")
        return 2
    if getattr(args, "lab", None) is not None and not LAB_RE.match(args.lab):
        log("bad lab name %r" % args.lab)
        return 2
    try:
        return args.func(args)
    except LabError as e:
        log("error: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
