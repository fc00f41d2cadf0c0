"""A gateway with 1,000 road-warrior clients: what the role costs against the same change made by hand.

Run as root with the project's venv on PATH (tests/setup.sh).  One lab host, g1, is a one-member mesh that carries
--clients clients (device-held keys made here); side by side, in rounds:

  ping      `ansible g1 -m ansible.builtin.ping`
  role      `ansible-playbook playbooks/wireguard_mesh.yml` with the clients: cold (from scratch), a re-run with no
            change, and a run that adds one client and removes another
  by hand   the same on a second interface of g1 (wireguard-go, `hand0`): `wg setconf` of all peers from scratch,
            `wg syncconf` of the same file (no change), `wg set ... peer A allowed-ips ...; wg set ... peer B remove`
            (timed inside the host, so the lab's exec overhead is not counted)

and, from one re-run with ansible.posix.profile_tasks, the time of the interface task (the one module call on the
gateway) next to a ping task of the same host.  The lab is always torn down.

  python3 bench/clients_bench.py [--clients 1000] [--repeat 3]
"""

import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_PY = os.path.join(ROOT, "tests", "lab", "lab.py")
LAB = "benchclients"
RECAP_RE = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
TASK_RE = re.compile(r"^(.*?)\s*-+\s*(\d+(?:\.\d+)?)s$", re.M)


def public_key():
    raw = X25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw,
                                                                serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def run(argv, env=None, check=True):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False)
    took = time.perf_counter() - start
    if check and proc.returncode != 0:
        sys.exit("clients_bench: %s failed (rc %d):\n%s" % (" ".join(argv[:4]), proc.returncode, proc.stdout[-3000:]))
    return took, proc.stdout


def lab_exec(*argv):
    return run(["python3", LAB_PY, "exec", "--lab", LAB, "g1", "--"] + list(argv))[1]


def timed_in_host(script):
    """Seconds the shell ``script`` took inside g1 (bash's own clock)."""
    out = lab_exec("bash", "-c", "TIMEFORMAT=%R; { time { " + script + " ; } ; } 2>&1 >/dev/null")
    return float(out.strip().splitlines()[-1])


def changed(out):
    rows = RECAP_RE.findall(out)
    if not rows or any(int(r[2]) or int(r[3]) for r in rows):
        sys.exit("clients_bench: a run failed or a host was unreachable:\n" + out[-3000:])
    return sum(int(r[1]) for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="clients-bench-")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".tmp", "collections"))
    run(["python3", LAB_PY, "up", "--lab", LAB, "--hosts", "g1", "--group", "wireguard_mesh=g1"])
    try:
        inventory = run(["python3", LAB_PY, "inventory", "--lab", LAB])[1].strip().splitlines()[-1]
        keys = [public_key() for dummy in range(opts.clients + 1)]
        clients = [{"name": "c%04d" % i, "gateway": "g1", "public_key": keys[i]} for i in range(opts.clients)]
        base = {"wireguard_mesh_network": "10.90.0.0/20", "wireguard_mesh_clients_dir": work + "/files",
                "wireguard_mesh_clients_keys_dir": work + "/keys", "wireguard_mesh_ipam_ledger": work + "/ledger.json",
                "wireguard_mesh_registry": work + "/registry.json"}
        variants = {"all": clients,
                    "swap": clients[1:] + [{"name": "new", "gateway": "g1", "public_key": keys[-1]},
                                           {"name": clients[0]["name"], "state": "absent"}]}
        for name, value in variants.items():
            with open(os.path.join(work, name + ".json"), "w") as handle:
                json.dump(dict(base, wireguard_mesh_clients=value), handle)
        playbook = ["ansible-playbook", "-i", inventory, os.path.join(ROOT, "playbooks", "wireguard_mesh.yml")]
        ping = ["ansible", "g1", "-i", inventory, "-m", "ansible.builtin.ping"]
        run(ping, env)                                            # warm the ControlPersist master
        figures = {"ping": [], "cold": [], "rerun": [], "swap": []}
        took, out = run(playbook + ["-e", "@%s/all.json" % work], env)
        assert changed(out) > 0
        figures["cold"].append(took)
        for dummy in range(opts.repeat):
            figures["ping"].append(run(ping, env)[0])
            took, out = run(playbook + ["-e", "@%s/all.json" % work], env)
            assert changed(out) == 0, "a re-run changed something"
            figures["rerun"].append(took)
            for variant in ("swap", "all"):
                took, out = run(playbook + ["-e", "@%s/%s.json" % (work, variant)], env)
                assert changed(out) > 0
                if variant == "swap":
                    figures["swap"].append(took)
        peers = lab_exec("wg", "show", "wg0", "peers").split()
        assert len(peers) == opts.clients, "wg0 has %d peers" % len(peers)

        # the same by hand on a second interface of the gateway
        lines = ["[Interface]", "ListenPort = 51900", "PrivateKey = %s" % base64.b64encode(os.urandom(32)).decode()]
        for i, key in enumerate(keys[:opts.clients]):
            lines += ["[Peer]", "PublicKey = %s" % key, "AllowedIPs = 10.91.%d.%d/32" % (i // 250, i % 250 + 1)]
        conf = os.path.join(work, "hand0.conf")
        with open(conf, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        lab_exec("wireguard-go", "hand0")
        hand = {"cold": [], "rerun": [], "swap": []}
        for dummy in range(opts.repeat):
            lab_exec("wg", "setconf", "hand0", "/dev/null")
            hand["cold"].append(timed_in_host("wg setconf hand0 %s" % conf))
            hand["rerun"].append(timed_in_host("wg syncconf hand0 %s" % conf))
            hand["swap"].append(timed_in_host("wg set hand0 peer %s allowed-ips 10.91.9.9/32; wg set hand0 peer %s remove"
                                              % (keys[-1], keys[0])))
            lab_exec("wg", "set", "hand0", "peer", keys[-1], "remove")

        # task by task, with every module process on g1 timed by a wrapper interpreter: the interface call (a re-run
        # with no change, then one client added and one removed) next to a ping task of the same host
        penv = dict(env, ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks")
        timed = os.path.join(work, "timed-python")
        with open(timed, "w") as handle:
            handle.write('#!/bin/bash\ns=$(date +%%s.%%N)\n/usr/bin/python3 "$@"\nrc=$?\n'
                         'echo "$s $(date +%%s.%%N)" >> %s/modtimes\nexit $rc\n' % work)
        os.chmod(timed, 0o755)
        wrapped = ["-e", "ansible_python_interpreter=" + timed]

        def host_seconds(argv):
            if os.path.exists(work + "/modtimes"):
                os.unlink(work + "/modtimes")
            out = run(argv + wrapped, penv)[1]
            with open(work + "/modtimes") as handle:
                spans = [float(b) - float(a) for a, b in (line.split() for line in handle)]
            return out, max(spans)

        out, host_rerun = host_seconds(playbook + ["-e", "@%s/all.json" % work])
        tasks = dict((name.strip(), float(t)) for name, t in TASK_RE.findall(out))
        host_swap = host_seconds(playbook + ["-e", "@%s/swap.json" % work])[1]
        run(playbook + ["-e", "@%s/all.json" % work], env)
        pingbook = os.path.join(work, "ping.yml")
        with open(pingbook, "w") as handle:
            handle.write("- hosts: g1\n  gather_facts: false\n  tasks:\n    - name: ping\n      ansible.builtin.ping:\n")
        out, host_ping = host_seconds(["ansible-playbook", "-i", inventory, pingbook])
        ping_task = dict((name.strip(), float(t)) for name, t in TASK_RE.findall(out))["ping"]
        # profile_tasks names a role's task "<role> : <name>"
        interface = max(t for name, t in tasks.items() if "Configure the WireGuard interface" in name)
    finally:
        run(["python3", LAB_PY, "down", "--lab", LAB], check=False)

    p = statistics.median(figures["ping"])
    print("%d clients on one gateway; medians of %d rounds (cold: 1 run)" % (opts.clients, opts.repeat))
    print("%-28s %9s %9s %9s %12s" % ("run", "role s", "by hand s", "role/ping", "role/by hand"))
    for key, label in (("cold", "from scratch"), ("rerun", "re-run, no change"), ("swap", "one added, one removed")):
        r, h = statistics.median(figures[key]), statistics.median(hand[key])
        print("%-28s %9.2f %9.3f %8.1fx %11.0fx" % (label, r, h, r / p, r / h))
    print("ansible -m ping: %.2f s" % p)
    print("re-run, task by task: interface call %.2f s, a ping task of the same host %.2f s (%.1fx)"
          % (interface, ping_task, interface / ping_task))
    print("module process on the gateway: interface call %.2f s with no change, %.2f s adding one client and removing "
          "one; ping %.2f s" % (host_rerun, host_swap, host_ping))


if __name__ == "__main__":
    main()
