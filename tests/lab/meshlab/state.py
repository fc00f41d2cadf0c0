"""A lab's state: discovery of live labs, the registry of indices, the plan of a new lab."""

import fcntl
import json
import os
import re
import time

from .common import ALIAS_PREFIX, DEFAULT_SYSCTLS, FORWARDING_ALIASES, LabError, NS_RE, REGISTRY, STATE_ROOT, read_json, run, write_file


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
