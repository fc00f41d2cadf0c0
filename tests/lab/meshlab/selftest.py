"""lab.py selftest: a 3-host lab, checked end to end (ssh, ansible, ping, wireguard-go), then removed."""

import os
import subprocess
import sys
import time

from .common import LAB_PY, NS_RE, ROOT_DIR, read_json
from .state import netns_list
from .teardown import ns_pids, pids_matching, proc_alive


def cmd_selftest(args):
    me = [sys.executable, LAB_PY]
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
