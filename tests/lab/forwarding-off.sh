#!/usr/bin/env bash
# Runs a command with IP forwarding off in the root network namespace (IPv4 and IPv6), as on a
# freshly booted machine, and puts the previous values back afterwards, also when the command
# fails or is interrupted (INT, TERM: the values are restored once the command has ended).
#
#   tests/lab/forwarding-off.sh tests/integration/run.sh ipsec_site
#
# Why: a new network namespace inherits the root namespace's IPv4 settings
# (net.core.devconf_inherit_init_net = 0), and podman (netavark) or Docker turn forwarding on.
# tests/lab/lab.py sets every namespace's forwarding itself; running the namespace scenarios with
# the root's forwarding off proves that no test relies on what the machine happens to have.
# Exit code: the command's.  Run as root.
set -uo pipefail

keys=(net.ipv4.ip_forward net.ipv4.conf.default.forwarding net.ipv6.conf.all.forwarding net.ipv6.conf.default.forwarding)
saved=()
for k in "${keys[@]}"; do
    saved+=("$k=$(sysctl -n "$k")") || { echo "forwarding-off.sh: cannot read $k" >&2; exit 2; }
done

# shellcheck disable=SC2317  # called by the trap
restore() {
    # in the order saved: net.ipv4.ip_forward first (writing it sets every IPv4 interface), then the defaults
    sysctl -q -w "${saved[@]}" || echo "forwarding-off.sh: could not restore ${saved[*]}" >&2
    echo "forwarding-off.sh: restored ${saved[*]}" >&2
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sysctl -q -w net.ipv4.ip_forward=0 net.ipv4.conf.default.forwarding=0 \
    net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.forwarding=0 || exit 2
echo "forwarding-off.sh: root namespace forwarding off (was ${saved[*]})" >&2
"$@"
