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
import os
import sys

from .bringup import cmd_up
from .common import LAB_RE, LabError, NS_RE, STATE_ROOT, log, read_json
from .kernel import restore_neigh_limits
from .selftest import cmd_selftest
from .state import Lock, find_states, netns_list, ns_marker, ns_name, registry_entries
from .teardown import teardown


def cmd_down(args):
    with Lock():
        states = find_states(args.lab, args.state_dir)
        teardown({args.lab: states}, keep_state=args.keep_state)
        restore_neigh_limits(registry_entries())
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
        restore_neigh_limits(registry_entries())
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
