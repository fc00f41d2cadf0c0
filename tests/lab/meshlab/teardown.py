"""Removing labs: their processes, namespaces, links, files and registry entries."""

import os
import re
import shutil
import signal
import time

from .common import ALIAS_PREFIX, NS_RE, REGISTRY, STATE_MARK, ip_batch, log, read_json, run
from .state import link_alias, netns_list, ns_marker, ns_name


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
