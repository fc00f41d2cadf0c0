"""Packets lost while WireGuard keys rotate, on a namespace lab.

Python 3 standard library only; run as root after `bash tests/setup.sh` (it builds a lab with tests/lab/lab.py).
A full mesh of h1..h4 with preshared keys converges once; then, --trials times each:

  one       `wireguard_mesh -e wireguard_mesh_rotate_keys=[h3]` while h1 pings h2 (neither rotated) and h3 (rotated)
  all       `rotate_keys` (every member, one at a time) while h1 pings h2 (both rotated in turn)
  psk       `rotate_keys -e rotate_keys_psk_secret=true -e rotate_keys_hosts=[]` while h1 pings h2

Pings are ICMP echoes every 0.2 s through the overlay, started before the run and stopped 3 s after it; an echo is
lost when its sequence number has no reply (the last second before the stop is not counted: it may be in flight).
Prints, per kind, the lost echoes of each trial and their median, and the interruption they stand for (lost x 0.2 s).

  python3 bench/rotation_bench.py [--trials 5]
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_PY = os.path.join(ROOT, "tests", "lab", "lab.py")
LAB = "rotbench"
HOSTS = ["h1", "h2", "h3", "h4"]
INTERVAL = 0.2


def env():
    e = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
             ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".tmp", "collections"))
    e["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + e.get("PATH", "")
    return e


def playbook(inventory, extra, name, log_dir):
    argv = ["ansible-playbook", "-i", inventory, "-f", "4", name, "-e",
            json.dumps(dict(extra, wireguard_mesh_preshared_keys=True))]
    p = subprocess.run(argv, cwd=ROOT, env=env(), capture_output=True, text=True, check=False)
    with open(os.path.join(log_dir, "%s-%d.log" % (os.path.basename(name), time.monotonic_ns())), "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        raise SystemExit("%s failed (rc %d); see %s" % (name, p.returncode, log_dir))


def start_ping(src, address, path):
    out = open(path, "w")
    return subprocess.Popen([sys.executable, LAB_PY, "exec", "--lab", LAB, src, "--", "ping", "-n", "-i", str(INTERVAL),
                             address], stdout=out, stderr=subprocess.STDOUT), out


def stop_ping(proc, out, path):
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    out.close()
    with open(path) as f:
        text = f.read()
    replies = sorted(set(int(n) for n in re.findall(r"icmp_seq=(\d+) ", text)))
    sent = int(re.search(r"(\d+) packets transmitted", text).group(1))
    counted = sent - int(1 / INTERVAL)               # the last second may still be in flight
    return len([n for n in range(1, counted + 1) if n not in replies]), sent


def trial(kind, inventory, address, log_dir):
    pings = {"h2": address["h2"]}
    if kind == "one":
        pings["h3"] = address["h3"]
    running = dict((dst, start_ping("h1", addr, os.path.join(log_dir, "ping-%s-%s.log" % (kind, dst))))
                   for dst, addr in pings.items())
    time.sleep(1.5)
    if kind == "one":
        playbook(inventory, {"wireguard_mesh_rotate_keys": ["h3"]}, "playbooks/wireguard_mesh.yml", log_dir)
    elif kind == "all":
        playbook(inventory, {}, "playbooks/rotate_keys.yml", log_dir)
    else:
        playbook(inventory, {"rotate_keys_psk_secret": True, "rotate_keys_hosts": []}, "playbooks/rotate_keys.yml",
                 log_dir)
    time.sleep(3)
    return dict((dst, stop_ping(proc, out, os.path.join(log_dir, "ping-%s-%s.log" % (kind, dst))))
                for dst, (proc, out) in running.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--kinds", default="one,all,psk", help="which rotations to time (default one,all,psk)")
    args = ap.parse_args()
    log_dir = tempfile.mkdtemp(prefix="meshforge-rotbench-")
    up = subprocess.run([sys.executable, LAB_PY, "up", "--lab", LAB, "--hosts", ",".join(HOSTS),
                         "--group", "wireguard_mesh=" + ",".join(HOSTS)], capture_output=True, text=True, check=True)
    inventory = up.stdout.strip().splitlines()[-1]
    state = os.path.dirname(inventory)
    try:
        playbook(inventory, {}, "playbooks/wireguard_mesh.yml", log_dir)
        with open(os.path.join(state, "meshforge_vpn_ipam.json")) as f:
            address = json.load(f)["allocations"]["wg0"]
        results = {"one": [], "all": [], "psk": []}
        for number in range(args.trials):
            for kind in args.kinds.split(","):
                results[kind].append(trial(kind, inventory, address, log_dir))
                print("trial %d %-4s %s" % (number + 1, kind, results[kind][-1]), flush=True)
        print("\nlost echoes (0.2 s apart) per trial, median, and the interruption it stands for:")
        for kind, label in (("one", "rotate h3 alone"), ("all", "rotate_keys, all 4 one at a time"),
                            ("psk", "rotate_keys_psk_secret")):
            if not results[kind]:
                continue
            for dst in sorted(results[kind][0]):
                lost = [r[dst][0] for r in results[kind]]
                what = "rotated member" if (kind == "one" and dst == "h3") else (
                    "both ends rotated in turn" if kind == "all" else "members not rotated")
                print("  %-34s h1->%s (%s): %s  median %s = %.1f s" % (
                    label, dst, what, lost, statistics.median(lost), statistics.median(lost) * INTERVAL))
        print("logs: %s" % log_dir)
    finally:
        subprocess.run([sys.executable, LAB_PY, "down", "--lab", LAB], capture_output=True, check=False)


if __name__ == "__main__":
    main()
