"""Kernel settings: each namespace's sysctls, and the neighbour tables all namespaces share."""

import json
import os
import re

from .common import LabError, NEIGH_KEYS, REGISTRY, SYSCTL_KEY_RE, log, read_json, run_parallel, write_file

# The values the neighbour tables had before a lab raised them, kept until the last lab is gone.
NEIGH_SAVED = os.path.join(REGISTRY, "neigh-limits.saved")     # not .json: registry_entries reads those


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


def _neigh_path(key):
    return "/proc/sys/" + key.replace(".", "/")


def ensure_neigh_limits(n_hosts):
    """Raise gc_thresh1/2/3 (IPv4 and IPv6) when a lab of n_hosts needs more, saving the values they had."""
    need = max(1024, 2 * (n_hosts + 2) ** 2)
    try:
        with open(_neigh_path("net.ipv4.neigh.default.gc_thresh3")) as f:
            have = int(f.read())
    except (OSError, ValueError):
        return
    if have >= need:
        return
    if not os.path.exists(NEIGH_SAVED):
        saved = {}
        for key in NEIGH_KEYS:
            with open(_neigh_path(key)) as f:
                saved[key] = f.read().strip()
        os.makedirs(REGISTRY, exist_ok=True)
        write_file(NEIGH_SAVED, json.dumps(saved, indent=1) + "\n", 0o600)
    for key in NEIGH_KEYS:
        value = need // 4 if key.endswith("1") else need // 2 if key.endswith("2") else need
        with open(_neigh_path(key), "w") as f:
            f.write("%d\n" % value)
    log("neighbour tables: gc_thresh1/2/3 raised to %d/%d/%d for %d hosts (restored when the last lab is down)"
        % (need // 4, need // 2, need, n_hosts))


def restore_neigh_limits(labs_left):
    """Put the neighbour tables back as they were before the first lab raised them, once no lab is left."""
    saved = read_json(NEIGH_SAVED)
    if labs_left or not saved:
        return
    for key in NEIGH_KEYS:
        if key in saved:
            with open(_neigh_path(key), "w") as f:
                f.write("%s\n" % saved[key])
    os.unlink(NEIGH_SAVED)
    log("neighbour tables: gc_thresh1/2/3 restored to %s/%s/%s" % tuple(
        saved.get("net.ipv4.neigh.default.gc_thresh%d" % i) for i in (1, 2, 3)))
