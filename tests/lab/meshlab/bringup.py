"""Creating a lab: namespaces, links, addresses, sshd, then waiting for every host to answer."""

import os
import shlex
import shutil
import subprocess
import time

from .access import inventory_text, make_etc, ssh_config_text, sshd_config, wait_ports
from .common import ALIAS_PREFIX, DEFAULT_PRIVATE_DIRS, HOST_RE, LabError, STATE_MARK, ip_batch, log, run_parallel, write_file
from .kernel import ensure_neigh_limits, parse_sysctls, set_sysctls
from .state import Lock, allocate_index, default_state_dir, find_states, parse_groups, plan_lab, save_state
from .teardown import teardown


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
