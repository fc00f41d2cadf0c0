"""Wall-time benchmark of the wireguard_mesh playbook against `ansible -m ping`.

Python 3 standard library only; run as root (it builds network-namespace labs with
tests/lab/lab.py).  For every size in --sizes (default 3 and 10 hosts), side by side:

  ping   `ansible all -i INV -f N -m ansible.builtin.ping`            median of one run before
         every cold run and every re-run
  cold   `ansible-playbook -i INV -f N playbooks/wireguard_mesh.yml`   on a fresh lab (no key,
         no interface); median of --cold-repeat runs, each on a newly built lab
  rerun  the same playbook again on the converged lab                  median of --repeat runs

SSH is warm in all three: right after a lab is built, one untimed `ansible -m ping`
opens the ControlPersist masters (ControlPersist=60s in the lab inventory), and before
every timed run the script checks that a master socket exists for every host (if one
has expired it warms up again, untimed, and counts it as a "rewarm").  So the figures
compare Ansible work, not SSH handshakes.

Measurements are interleaved: each round runs every size, alternating the order, so a
burst of load on the machine hits both sides.  Checks: every run exits 0 with no failed
or unreachable host; the cold run changed every host and brought the mesh up (every host
pings every overlay address, then `meshforge.vpn.wireguard_info` shows the interface up
and every peer connected); every re-run reports changed=0 in PLAY RECAP.

With --floor, every re-run is also paired with a playbook of two `ansible.builtin.ping`
tasks (the least any run with two round trips per host can cost), to show what the
target ratios leave for everything else.

Finally, for the largest size, one cold converge on a fresh lab and one re-run with
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks give the per-task cost (not part
of the table).  The labs (bench<N>) are always torn down.

  python3 bench/bench.py [--sizes 3,10] [--repeat 5] [--cold-repeat 3] [--floor] [--ref HEAD]

Prints a table and writes bench/results/bench-<timestamp>.json plus the raw logs in
bench/results/bench-<timestamp>/.  Exit status: 0 when every run and check passed,
1 when one failed (2 with --enforce-targets when a ratio misses its target).
"""

import argparse
import json
import os
import platform
import resource
import re
import shutil
import signal
import socket
import stat
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_PY = os.path.join(ROOT, "tests", "lab", "lab.py")
RESULTS = os.path.join(ROOT, "bench", "results")
PLAYBOOK = os.path.join("playbooks", "wireguard_mesh.yml")
GROUP = "wireguard_mesh"
INTERFACE = "wg0"                       # the role's default wireguard_mesh_interface
TARGETS = {"cold": 2.5, "rerun": 1.5}   # max ratio to the ping time (issue 11)
RECAP_RE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                      r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)")
PROFILE_RE = re.compile(r"^(.*?)\s*-+\s*(\d+(?:\.\d+)?)s$")


class BenchError(Exception):
    pass


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def median(xs):
    return statistics.median(xs) if xs else None


# --------------------------------------------------------------------------- environment

class Env:
    def __init__(self, args, logdir):
        self.logdir = logdir
        self.tmp = tempfile.mkdtemp(prefix="meshforge-bench-")
        self.collection = ROOT
        coll_path = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, ".tmp", "collections")
        if args.ref:
            # Benchmark a committed state: export it (read-only for the repo) and put it first
            # on the collections path; the dependencies still come from the usual path.
            self.collection = os.path.join(self.tmp, "ansible_collections", "meshforge", "vpn")
            os.makedirs(self.collection)
            arch = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", args.ref],
                                  capture_output=True, check=False)
            if arch.returncode != 0:
                raise BenchError("git archive %s failed: %s" % (args.ref, arch.stderr.decode()))
            subprocess.run(["tar", "-x", "-C", self.collection], input=arch.stdout, check=True)
            coll_path = self.tmp + os.pathsep + coll_path
        self.env = dict(os.environ)
        venv_bin = os.path.join(ROOT, ".venv", "bin")
        if os.path.isdir(venv_bin):
            self.env["PATH"] = venv_bin + os.pathsep + self.env.get("PATH", "")
        self.env.update({
            "ANSIBLE_COLLECTIONS_PATH": coll_path,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        })
        for k in ("ANSIBLE_FORCE_COLOR", "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_STDOUT_CALLBACK",
                  "ANSIBLE_LOAD_CALLBACK_PLUGINS"):
            self.env.pop(k, None)
        self.counter = 0
        for tool in ("ansible", "ansible-playbook"):
            if not shutil.which(tool, path=self.env["PATH"]):
                raise BenchError("%s not found: run `bash tests/setup.sh` first" % tool)

    def run(self, argv, label, extra_env=None):
        """Run argv; returns (seconds, rc, stdout, stderr). The raw output goes to the log dir."""
        env = dict(self.env)
        env.update(extra_env or {})
        self.load = os.getloadavg()[0]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(argv, cwd=self.collection, env=env, capture_output=True, text=True, check=False,
                           stdin=subprocess.DEVNULL)
        dt = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time of Ansible and its ssh clients on the controller (the hosts' module
        # processes run under their sshd, so they are not in here).
        self.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        self.counter += 1
        path = os.path.join(self.logdir, "%03d-%s.log" % (self.counter, label))
        with open(path, "w") as f:
            f.write("$ %s\n# rc=%d wall=%.3fs\n%s\n--- stderr ---\n%s"
                    % (" ".join(argv), p.returncode, dt, p.stdout, p.stderr))
        return dt, p.returncode, p.stdout, p.stderr, path

    def floor_playbook(self):
        """A playbook of two ansible.builtin.ping tasks: the least a run with two round trips per host costs."""
        path = os.path.join(self.tmp, "floor-two-pings.yml")
        with open(path, "w") as f:
            f.write("- name: Two round trips per host and nothing else\n  hosts: all\n  gather_facts: false\n"
                    "  tasks:\n    - name: First\n      ansible.builtin.ping:\n"
                    "    - name: Second\n      ansible.builtin.ping:\n")
        return path

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def tool_version(env, argv):
    try:
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
        return p.stdout.splitlines()[0].strip() if p.stdout else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def git_info():
    def git(*a):
        p = subprocess.run(["git", "--no-optional-locks", "-C", ROOT] + list(a), capture_output=True, text=True,
                           check=False)
        return p.stdout if p.returncode == 0 else None
    status = git("status", "--porcelain") or ""
    return {"head": (git("rev-parse", "HEAD") or "").strip() or None,
            "dirty_files": [line[3:] for line in status.splitlines() if len(line) > 3]}


# --------------------------------------------------------------------------- labs

class Lab:
    def __init__(self, size):
        self.size = size
        self.name = "bench%d" % size
        self.hosts = ["h%d" % i for i in range(1, size + 1)]
        self.inventory = None
        self.cp_dir = None
        self.rewarms = 0

    def up(self):
        p = subprocess.run([sys.executable, LAB_PY, "up", "--lab", self.name, "--hosts", ",".join(self.hosts),
                            "--group", "%s=%s" % (GROUP, ",".join(self.hosts))],
                           capture_output=True, text=True, check=False)
        if p.returncode != 0:
            raise BenchError("lab up %s failed:\n%s%s" % (self.name, p.stdout, p.stderr))
        self.inventory = p.stdout.strip().splitlines()[-1]
        with open(os.path.join(os.path.dirname(self.inventory), "state.json")) as f:
            self.cp_dir = json.load(f)["cp_dir"]

    def down(self):
        p = subprocess.run([sys.executable, LAB_PY, "down", "--lab", self.name],
                           capture_output=True, text=True, check=False)
        if p.returncode != 0:
            log("lab down %s failed: %s%s" % (self.name, p.stdout, p.stderr))
        self.inventory = None
        return p.returncode == 0

    def masters(self):
        """Number of live ControlPersist master sockets for this lab."""
        try:
            return sum(1 for e in os.scandir(self.cp_dir) if stat.S_ISSOCK(e.stat(follow_symlinks=False).st_mode))
        except OSError:
            return 0


# --------------------------------------------------------------------------- output parsing

def parse_recap(out):
    recap = {}
    for line in out.splitlines():
        m = RECAP_RE.match(line.strip())
        if m:
            recap[m.group(1)] = dict(zip(("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"),
                                         map(int, m.groups()[1:])))
    return recap


def parse_profile(out):
    """Task timings from profile_tasks' TASKS RECAP, in execution order (PROFILE_TASKS_SORT_ORDER=none)."""
    lines = out.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("TASKS RECAP"))
    except StopIteration:
        return []
    tasks = []
    seen_rule = False
    for line in lines[start + 1:]:
        line = line.rstrip()
        if not seen_rule:
            seen_rule = line.startswith("=====")
            continue
        m = PROFILE_RE.match(line)
        if m:
            tasks.append({"task": m.group(1).strip(), "seconds": float(m.group(2))})
    return tasks


def adhoc_json(env, lab, module, args, label, forks):
    """An ad-hoc call with the ansible.posix.json stdout callback; returns {host: result}."""
    argv = ["ansible", "all", "-i", lab.inventory, "-f", str(forks), "-m", module]
    if args:
        argv += ["-a", args]
    json_env = {"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    dummy, rc, out, err, path = env.run(argv, label, json_env)
    try:
        data = json.loads(out[out.index("{"):])
        return dict(data["plays"][0]["tasks"][0]["hosts"]), rc, path
    except (ValueError, KeyError, IndexError):
        raise BenchError("%s: could not parse the JSON output (rc=%d), see %s" % (label, rc, path))


# --------------------------------------------------------------------------- measurements

class Bench:
    def __init__(self, args, env, labs):
        self.args = args
        self.env = env
        self.labs = labs
        self.data = {lab.size: {"ping": [], "cold": [], "rerun": [], "floor": [], "checks": [], "rewarms": 0,
                                "runs": []}
                     for lab in labs}
        self.failures = []

    def forks(self, lab):
        return max(self.args.forks or 0, lab.size)

    def record(self, lab, kind, dt, rnd):
        """One timed sample: wall time, plus context to judge noise (not used for the medians)."""
        self.data[lab.size][kind].append(round(dt, 3))
        self.data[lab.size]["runs"].append({"kind": kind, "round": rnd, "wall": round(dt, 3),
                                            "controller_cpu": round(self.env.cpu, 3),
                                            "loadavg1_before": round(self.env.load, 2)})

    def check(self, lab, name, ok, detail=""):
        self.data[lab.size]["checks"].append({"check": name, "ok": bool(ok), "detail": detail})
        if not ok:
            self.failures.append("%d hosts: %s %s" % (lab.size, name, detail))
            log("CHECK FAILED (%d hosts): %s %s" % (lab.size, name, detail))

    def ping_cmd(self, lab):
        return ["ansible", "all", "-i", lab.inventory, "-f", str(self.forks(lab)), "-m", "ansible.builtin.ping"]

    def playbook_cmd(self, lab):
        return ["ansible-playbook", "-i", lab.inventory, "-f", str(self.forks(lab)), PLAYBOOK]

    def warm(self, lab, why="warm-up"):
        dt, rc, out, err, path = self.env.run(self.ping_cmd(lab), "%s-%s" % (lab.name, why))
        if rc != 0:
            raise BenchError("%s ping failed on %s (rc=%d), see %s" % (why, lab.name, rc, path))
        return dt

    def ensure_warm(self, lab):
        if lab.masters() < lab.size:
            log("%s: %d of %d SSH masters alive, warming up again (untimed)" % (lab.name, lab.masters(), lab.size))
            self.data[lab.size]["rewarms"] += 1
            self.warm(lab, "rewarm")

    def fresh(self, lab):
        lab.up()
        self.warm(lab)
        if lab.masters() < lab.size:
            raise BenchError("%s: only %d of %d ControlPersist masters after the warm-up"
                             % (lab.name, lab.masters(), lab.size))

    def timed_ping(self, lab, rnd):
        self.ensure_warm(lab)
        dt, rc, out, err, path = self.env.run(self.ping_cmd(lab), "%s-ping" % lab.name)
        ok = rc == 0 and out.count("SUCCESS") == lab.size
        self.check(lab, "ping", ok, "" if ok else "rc=%d, see %s" % (rc, path))
        self.record(lab, "ping", dt, rnd)
        log("%-8s ping   %6.2fs" % (lab.name, dt))

    def timed_playbook(self, lab, kind, extra_env=None, label=None):
        self.ensure_warm(lab)
        dt, rc, out, err, path = self.env.run(self.playbook_cmd(lab), label or "%s-%s" % (lab.name, kind),
                                              extra_env)
        recap = parse_recap(out)
        ok = (rc == 0 and sorted(recap) == sorted(lab.hosts)
              and all(r["failed"] == 0 and r["unreachable"] == 0 for r in recap.values()))
        self.check(lab, "%s run succeeded" % kind, ok, "" if ok else "rc=%d, see %s" % (rc, path))
        changed = sum(r["changed"] for r in recap.values())
        if kind == "rerun":
            self.check(lab, "rerun changed=0", ok and changed == 0,
                       "" if changed == 0 else "changed=%d, see %s" % (changed, path))
        else:
            unchanged = [h for h, r in recap.items() if r["changed"] == 0]
            self.check(lab, "cold run changed every host", ok and not unchanged,
                       "" if not unchanged else "no change on %s, see %s" % (",".join(unchanged), path))
        return dt, out, recap

    def verify_mesh(self, lab):
        """Every host pings every overlay address, then wireguard_info shows all peers connected."""
        info, rc, path = adhoc_json(self.env, lab, "meshforge.vpn.wireguard_info", "name=%s" % INTERFACE,
                                    "%s-info-before-ping" % lab.name, self.forks(lab))
        addrs = []
        for h in lab.hosts:
            iface = (info.get(h, {}).get("interfaces") or {}).get(INTERFACE)
            if not iface or not iface.get("addresses"):
                self.check(lab, "mesh interface present", False, "%s has no %s address, see %s" % (h, INTERFACE, path))
                return False
            addrs += [a.split("/")[0] for a in iface["addresses"]]
        script = ("fail=''; for a in %s; do ok=0; for t in 1 2 3; do "
                  "ping -c1 -W2 -q $a >/dev/null 2>&1 && { ok=1; break; }; done; "
                  "[ $ok = 1 ] || fail=\"$fail $a\"; done; echo \"unreachable:$fail\"" % " ".join(addrs))
        res, rc, path = adhoc_json(self.env, lab, "ansible.builtin.shell", script, "%s-overlay-ping" % lab.name,
                                   self.forks(lab))
        bad = {h: (r.get("stdout") or r.get("msg", "?")) for h, r in res.items()
               if r.get("rc") != 0 or r.get("stdout", "").strip() != "unreachable:"}
        self.check(lab, "every host pings every overlay address (%d addresses)" % len(addrs),
                   not bad and sorted(res) == sorted(lab.hosts), "%s, see %s" % (bad, path) if bad else "")
        info, rc, path = adhoc_json(self.env, lab, "meshforge.vpn.wireguard_info", "name=%s" % INTERFACE,
                                    "%s-info-after-ping" % lab.name, self.forks(lab))
        summary = {}
        for h in lab.hosts:
            iface = (info.get(h, {}).get("interfaces") or {}).get(INTERFACE) or {}
            summary[h] = "%s/%s%s" % (iface.get("peers_connected"), iface.get("peers_total"),
                                      "" if iface.get("up") else " down")
        good = all(v == "%d/%d" % (lab.size - 1, lab.size - 1) for v in summary.values())
        self.check(lab, "wireguard_info: interface up, %d/%d peers connected on every host"
                   % (lab.size - 1, lab.size - 1), good, "" if good else "%s, see %s" % (summary, path))
        return good

    def order(self, round_no):
        return self.labs if round_no % 2 == 0 else list(reversed(self.labs))

    def run(self):
        a = self.args
        log("building labs %s" % ", ".join(lab.name for lab in self.labs))
        # Phase 1, cold: build a fresh lab, warm SSH (untimed), one timed ping, the timed cold
        # converge, then check that the mesh carries traffic (untimed).
        for c in range(a.cold_repeat):
            for lab in self.order(c):
                self.fresh(lab)
                self.timed_ping(lab, "cold-%d" % c)
                dt, out, recap = self.timed_playbook(lab, "cold")
                self.record(lab, "cold", dt, "cold-%d" % c)
                log("%-8s cold   %6.2fs (sample %d/%d)" % (lab.name, dt, c + 1, a.cold_repeat))
                self.verify_mesh(lab)
        # Phase 2, re-runs on the converged labs, each next to a timed ping.
        for r in range(a.repeat):
            for lab in self.order(r):
                self.timed_ping(lab, "rerun-%d" % r)
                dt, out, recap = self.timed_playbook(lab, "rerun")
                self.record(lab, "rerun", dt, "rerun-%d" % r)
                log("%-8s rerun  %6.2fs (sample %d/%d)" % (lab.name, dt, r + 1, a.repeat))
                if a.floor:
                    self.ensure_warm(lab)
                    argv = ["ansible-playbook", "-i", lab.inventory, "-f", str(self.forks(lab)),
                            self.env.floor_playbook()]
                    dt, rc, out, err, path = self.env.run(argv, "%s-floor" % lab.name)
                    self.check(lab, "two-ping playbook", rc == 0, "" if rc == 0 else "rc=%d, see %s" % (rc, path))
                    self.record(lab, "floor", dt, "rerun-%d" % r)
                    log("%-8s 2 pings %5.2fs" % (lab.name, dt))
        profile = None
        if not a.no_profile:
            profile = self.profile(max(self.labs, key=lambda lab: lab.size))
        return profile

    def profile(self, lab):
        """One cold converge on a fresh lab and one re-run, with profile_tasks; not in the table."""
        penv = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                "PROFILE_TASKS_SORT_ORDER": "none", "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all"}
        result = {"hosts": lab.size}
        self.fresh(lab)
        for kind in ("cold", "rerun"):
            dt, out, recap = self.timed_playbook(lab, kind, penv, "%s-profile-%s" % (lab.name, kind))
            tasks = parse_profile(out)
            in_tasks = sum(t["seconds"] for t in tasks)
            result[kind] = {"wall": round(dt, 3), "tasks": tasks, "in_tasks": round(in_tasks, 3),
                            "outside_tasks": round(dt - in_tasks, 3)}
            log("%-8s profiled %s %.2fs (%.2fs in tasks)" % (lab.name, kind, dt, in_tasks))
        return result


# --------------------------------------------------------------------------- report

def fmt(x, spec="%.2f"):
    return spec % x if x is not None else "-"


def paired_ratios(runs):
    """Median over rounds of (cold or rerun) / the ping timed just before it, in the same round."""
    ping = {x["round"]: x["wall"] for x in runs if x["kind"] == "ping"}
    out = {}
    for kind in ("cold", "rerun", "floor"):
        ratios = [x["wall"] / ping[x["round"]] for x in runs if x["kind"] == kind and ping.get(x["round"])]
        out[kind] = round(median(ratios), 2) if ratios else None
    return out


def summarize(bench, profile, top):
    rows = []
    for lab in bench.labs:
        d = bench.data[lab.size]
        ping, cold, rerun = median(d["ping"]), median(d["cold"]), median(d["rerun"])
        row = {"hosts": lab.size, "forks": bench.forks(lab), "ping_s": ping, "cold_s": cold, "rerun_s": rerun,
               "cold_over_ping": round(cold / ping, 2) if ping and cold else None,
               "rerun_over_ping": round(rerun / ping, 2) if ping and rerun else None,
               "samples": {k: d[k] for k in ("ping", "cold", "rerun")},
               "min_s": {k: min(d[k]) if d[k] else None for k in ("ping", "cold", "rerun", "floor")},
               "floor_two_pings_s": median(d["floor"]),
               "floor_over_ping": round(median(d["floor"]) / ping, 2) if ping and d["floor"] else None,
               "paired_ratio_median": paired_ratios(d["runs"]),
               "controller_cpu_median_s": {k: median([x["controller_cpu"] for x in d["runs"] if x["kind"] == k])
                                           for k in ("ping", "cold", "rerun", "floor")},
               "runs": d["runs"],
               "rewarms": d["rewarms"],
               "checks_ok": all(c["ok"] for c in d["checks"]), "checks": d["checks"]}
        row["meets_targets"] = {
            "cold": row["cold_over_ping"] is not None and row["cold_over_ping"] <= TARGETS["cold"],
            "rerun": row["rerun_over_ping"] is not None and row["rerun_over_ping"] <= TARGETS["rerun"]}
        rows.append(row)

    header = ("hosts", "ping s", "cold s", "rerun s", "cold/ping", "rerun/ping", "checks")
    lines = ["", "%5s %8s %8s %8s %10s %11s   %s" % header]
    for r in rows:
        lines.append("%5d %8s %8s %8s %9sx %10sx   %s" % (
            r["hosts"], fmt(r["ping_s"]), fmt(r["cold_s"]), fmt(r["rerun_s"]), fmt(r["cold_over_ping"], "%.1f"),
            fmt(r["rerun_over_ping"], "%.1f"), "ok" if r["checks_ok"] else "FAILED"))
    lines.append("targets: cold/ping <= %.1fx, rerun/ping <= %.1fx; medians of ping %d, cold %d, rerun %d samples"
                 % (TARGETS["cold"], TARGETS["rerun"], len(rows[0]["samples"]["ping"]),
                    len(rows[0]["samples"]["cold"]), len(rows[0]["samples"]["rerun"])))
    for r in rows:
        s = r["samples"]
        lines.append("  %2d hosts: ping %s | cold %s | rerun %s%s" % (
            r["hosts"], " ".join("%.2f" % x for x in s["ping"]), " ".join("%.2f" % x for x in s["cold"]),
            " ".join("%.2f" % x for x in s["rerun"]), " | %d rewarm(s)" % r["rewarms"] if r["rewarms"] else ""))
        cpu = r["controller_cpu_median_s"]
        lines.append("           controller CPU s per host: ping %s, cold %s, rerun %s" % tuple(
            fmt(cpu[k] / r["hosts"] if cpu[k] is not None else None, "%.3f") for k in ("ping", "cold", "rerun")))
        lines.append("           best: ping %s, cold %s, rerun %s; median of per-round ratios: cold/ping %sx, "
                     "rerun/ping %sx" % (fmt(r["min_s"]["ping"]), fmt(r["min_s"]["cold"]), fmt(r["min_s"]["rerun"]),
                                         fmt(r["paired_ratio_median"]["cold"], "%.1f"),
                                         fmt(r["paired_ratio_median"]["rerun"], "%.1f")))
        if r["floor_two_pings_s"]:
            lines.append("           a playbook of just two ansible.builtin.ping tasks: %.2fs = %.1fx ping"
                         % (r["floor_two_pings_s"], r["floor_over_ping"]))
        miss = [k for k, ok in r["meets_targets"].items() if not ok]
        if miss:
            lines.append("           misses the target for: %s" % ", ".join(miss))
    if profile:
        for kind in ("rerun", "cold"):
            p = profile.get(kind)
            if not p:
                continue
            lines.append("")
            lines.append("per-task cost, %d-host %s with profile_tasks: wall %.2fs = %.2fs in tasks + %.2fs outside "
                         "(start-up, inventory, role loading, recap)" % (profile["hosts"], kind, p["wall"],
                                                                         p["in_tasks"], p["outside_tasks"]))
            for t in sorted(p["tasks"], key=lambda t: -t["seconds"])[:top]:
                name = t["task"].replace("meshforge.vpn.wireguard_mesh : ", "")
                lines.append("  %6.2fs  %s" % (t["seconds"], name[:100]))
    for r in rows:
        for c in r["checks"]:
            if not c["ok"]:
                lines.append("FAILED (%d hosts): %s %s" % (r["hosts"], c["check"], c["detail"]))
    return rows, "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--sizes", default="3,10", help="comma-separated host counts (default 3,10)")
    ap.add_argument("--repeat", type=int, default=5, help="timed ping and re-run samples per size (default 5)")
    ap.add_argument("--cold-repeat", type=int, default=3,
                    help="cold converge samples per size, each on a newly built lab (default 3)")
    ap.add_argument("--forks", type=int, default=0, help="forks (default and minimum: the host count)")
    ap.add_argument("--ref", help="benchmark this git ref (exported with git archive) instead of the work tree")
    ap.add_argument("--top", type=int, default=8, help="tasks to show from the profile (default 8)")
    ap.add_argument("--floor", action="store_true",
                    help="also time a playbook of two ansible.builtin.ping tasks next to every re-run")
    ap.add_argument("--no-profile", action="store_true", help="skip the profile_tasks runs")
    ap.add_argument("--enforce-targets", action="store_true", help="exit 2 when a ratio misses its target")
    ap.add_argument("--output", help="JSON file to write (default bench/results/bench-<timestamp>.json)")
    a = ap.parse_args()
    try:
        sizes = sorted({int(s) for s in a.sizes.split(",") if s.strip()})
    except ValueError:
        ap.error("--sizes: comma-separated integers")
    if not sizes or min(sizes) < 2 or max(sizes) > 60:
        ap.error("--sizes: between 2 and 60 hosts (the lab raises the kernel's neighbour tables for large sizes)")
    if a.repeat < 1 or a.cold_repeat < 1:
        ap.error("--repeat and --cold-repeat must be at least 1")
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (the lab creates network namespaces)")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    os.makedirs(RESULTS, exist_ok=True)
    out_json = a.output or os.path.join(RESULTS, "bench-%s.json" % stamp)
    logdir = os.path.join(RESULTS, "bench-%s" % stamp)
    os.makedirs(logdir, exist_ok=True)

    def on_term(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    labs = [Lab(n) for n in sizes]
    env = None
    bench = None
    profile = None
    error = None
    started = time.time()
    load_before = os.getloadavg()
    try:
        env = Env(a, logdir)
        bench = Bench(a, env, labs)
        profile = bench.run()
    except BenchError as e:
        error = str(e)
        log("ERROR: %s" % e)
    except KeyboardInterrupt as e:
        error = "interrupted (%s)" % (e or "ctrl-c")
        log("interrupted, tearing down")
    finally:
        for lab in labs:
            lab.down()
        if env:
            meta_env = env.env
            env.cleanup()
    if bench is None:
        sys.exit("bench.py: %s" % error)

    rows, table = summarize(bench, profile, a.top) if any(bench.data[lab.size]["ping"] for lab in labs) else ([], "")
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {"hostname": socket.gethostname(), "cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "software": {"python": platform.python_version(),
                     "ansible_core": tool_version(meta_env, ["ansible", "--version"]),
                     "ssh": subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False).stderr.strip()},
        "code": dict(git_info(), ref=a.ref or "work tree"),
        "method": {"sizes": sizes, "repeat": a.repeat, "cold_repeat": a.cold_repeat, "floor": a.floor,
                   "forks": "max(--forks, hosts)", "statistic": "median", "targets": TARGETS,
                   "ping": "ansible all -i INV -f N -m ansible.builtin.ping",
                   "converge": "ansible-playbook -i INV -f N %s" % PLAYBOOK,
                   "ssh": "ControlPersist masters opened by an untimed ping before timing; pipelining on"},
        "results": rows,
        "profile": profile,
        "error": error,
        "failures": bench.failures,
        "logs": os.path.relpath(logdir, ROOT),
    }
    with open(out_json, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(table)
    print("\nJSON: %s   logs: %s" % (os.path.relpath(out_json, ROOT), os.path.relpath(logdir, ROOT)))
    if error:
        print("ERROR: %s" % error)
    if error or bench.failures:
        sys.exit(1)
    if a.enforce_targets and not all(all(r["meets_targets"].values()) for r in rows):
        sys.exit(2)


if __name__ == "__main__":
    main()
