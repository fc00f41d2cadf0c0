#!/usr/bin/env bash
# Manual proof of meshforge.vpn.route, nft_set, nft_table and the firewall_plan filter on real nftables and
# routes (not run in CI).
#
# Three network namespaces: mffw-a (the host under test, group db) holds a bridge mffw-br (198.18.10.1/24)
# that mffw-b (group web, .2) and mffw-c (group other, .3) join by veth pairs, so both clients come in on
# the same "VPN" interface.  A TCP listener (python3 -m http.server) on 198.18.10.1:5432 in mffw-a.
# The modules run through ansible-playbook with connection=local inside mffw-a.
#
# Proves: a foreign table created first is intact after every run; the compiled policy lets web (mffw-b)
# reach tcp/5432 and blocks mffw-c; a second run reports changed=false; check mode reports no change;
# nft_set adds mffw-c's address (mffw-c gets through) and removes it (blocked again); a ruleset that would
# drop the management SSH connection is refused and nothing is applied; a raw rule that nft --check rejects
# and an unknown group fail with nothing applied; route adds two gateways with metrics, purge removes only a
# stale route with our tag (a static route and a proto 109 route stay), and a second run changes nothing.
#
# Needs root, nftables, iproute2, python3.  Cleans up everything it made: it kills only the listener PID it
# started and deletes only its own namespaces.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANSIBLE_BIN=${ANSIBLE_BIN:-$ROOT/.venv/bin}
WORK=$(mktemp -d /tmp/mffw-proof.XXXXXX)
NAMESPACES=(mffw-a mffw-b mffw-c)
PIDS=()

log() { printf '\n=== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$WORK"
}

for ns in "${NAMESPACES[@]}"; do
    if ip netns list | grep -qw "$ns"; then
        echo "namespace $ns exists already; not touching it" >&2
        exit 1
    fi
done
trap cleanup EXIT

COLLECTIONS="$WORK/collections"
mkdir -p "$COLLECTIONS/ansible_collections/meshforge"
ln -s "$ROOT" "$COLLECTIONS/ansible_collections/meshforge/vpn"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_NOCOLOR=1 \
    ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

play() {  # play TAGS [extra ansible-playbook arguments]: the proof playbook in mffw-a, output kept
    local tags=$1; shift
    env -u SSH_CONNECTION ip netns exec mffw-a "$ANSIBLE_BIN/ansible-playbook" -c local -i localhost, \
        "$ROOT/tests/firewall/proof.yml" --tags "$tags" "$@" 2>&1 | tee "$WORK/last.out" \
        | grep -E '"msg"|changed=|fatal|FAILED|ERROR' || true
}
expect() { grep -q -- "$1" "$WORK/last.out" || fail "expected '$1' in the last run"; }

connects() {  # connects NAMESPACE: exit 0 when a TCP connection to 198.18.10.1:5432 opens within 2 s
    ip netns exec "$1" python3 -c 'import socket,sys
try:
    socket.create_connection(("198.18.10.1", 5432), timeout=2).close()
except OSError as exc:
    print("   %s" % exc); sys.exit(1)'
}
reach() {  # reach NS yes|no
    if connects "$1"; then got=yes; else got=no; fi
    echo "   $1 -> 198.18.10.1:5432: connected=$got (expected $2)"
    [ "$got" = "$2" ] || fail "$1 connected=$got, expected $2"
}
foreign() { ip netns exec mffw-a nft list table ip foreign; }

log "Namespaces, bridge, veth pairs"
for ns in "${NAMESPACES[@]}"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n mffw-a link add mffw-br type bridge
ip -n mffw-a link set mffw-br up
ip -n mffw-a address add 198.18.10.1/24 dev mffw-br
for side in b c; do
    ip link add "mffw-a$side" type veth peer name "mffw-${side}0"
    ip link set "mffw-a$side" netns mffw-a
    ip link set "mffw-${side}0" netns "mffw-$side"
    ip -n mffw-a link set "mffw-a$side" master mffw-br up
    ip -n "mffw-$side" link set "mffw-${side}0" up
done
ip -n mffw-b address add 198.18.10.2/24 dev mffw-b0
ip -n mffw-c address add 198.18.10.3/24 dev mffw-c0
ip netns exec mffw-a python3 -m http.server 5432 --bind 198.18.10.1 >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do connects mffw-b >/dev/null 2>&1 && break; sleep 0.1; done
reach mffw-b yes
reach mffw-c yes

log "A foreign table first (standing in for Docker's)"
ip netns exec mffw-a nft -f - <<'NFT'
table ip foreign {
    chain c {
        type filter hook input priority 10; policy accept;
        tcp dport 9999 counter accept
    }
}
NFT
foreign > "$WORK/foreign.before"
cat "$WORK/foreign.before"

log "Check mode before the first run: predicts a change, applies nothing"
play table --check
expect 'changed=True action=create'
ip netns exec mffw-a nft list tables | grep -q meshforge && fail "check mode created the table"
reach mffw-c yes

log "nft_table with the compiled policy (web -> db tcp/5432)"
play table --diff
expect 'changed=True action=create'
ip netns exec mffw-a nft list table inet meshforge
reach mffw-b yes
reach mffw-c no
foreign | diff "$WORK/foreign.before" - && echo "   foreign table intact"

log "Second run and check mode: no change"
play table
expect 'changed=False action=none'
play table --check
expect 'changed=False action=none'

log "nft_set: add mffw-c's address to g_web_v4, then remove it"
play set --diff
expect 'changed=True added=\[.198.18.10.3.\]'
reach mffw-c yes
play set
expect 'changed=False'
play set -e proof_set_state=absent
expect 'removed=\[.198.18.10.3.\]'
reach mffw-c no
play table
expect 'changed=False action=none'

log "Lockout: management SSH from mffw-c (198.18.10.3) to port 22 would be dropped -> refused"
ip netns exec mffw-a nft list table inet meshforge > "$WORK/table.before"
SSH_CONNECTION="198.18.10.3 40022 198.18.10.1 22" ip netns exec mffw-a "$ANSIBLE_BIN/ansible-playbook" -c local \
    -i localhost, "$ROOT/tests/firewall/proof.yml" --tags table \
    -e '{"proof_extra_policies": [{"name": "web ssh", "sources": ["web"], "destinations": ["db"], "protocol": "tcp", "ports": [22]}]}' \
    2>&1 | tee "$WORK/last.out" | grep -E 'fatal' || true
expect 'would drop the management connection 198.18.10.3:40022 -> 198.18.10.1:22'
ip netns exec mffw-a nft list table inet meshforge | diff "$WORK/table.before" - && echo "   table unchanged"
log "Lockout: the same with ops -> all tcp/22 allowing mffw-c is accepted"
SSH_CONNECTION="198.18.10.3 40022 198.18.10.1 22" ip netns exec mffw-a "$ANSIBLE_BIN/ansible-playbook" -c local \
    -i localhost, "$ROOT/tests/firewall/proof.yml" --tags table \
    -e '{"proof_extra_policies": [{"name": "ops ssh", "sources": ["other"], "destinations": ["all"], "protocol": "tcp", "ports": [22]}]}' \
    2>&1 | tee "$WORK/last.out" | grep -E '"msg"|fatal' || true
expect 'changed=True action=replace'
play table
expect 'changed=True action=replace'

log "Bad input: a raw rule nft --check rejects, an unknown group; nothing applied"
ip netns exec mffw-a nft list table inet meshforge > "$WORK/table.before"
play table -e '{"proof_extra_rules": [{"rule": "tcp dport nosuchservice accept"}]}'
expect 'nft --check -f - failed'
play table -e '{"proof_extra_policies": [{"sources": ["nosuch"], "destinations": ["db"]}]}'
expect "policies\[1\].sources\[0\]: unknown group 'nosuch'"
ip netns exec mffw-a nft list table inet meshforge | diff "$WORK/table.before" - && echo "   table unchanged"
foreign | diff "$WORK/foreign.before" - && echo "   foreign table intact"

log "route: two gateways with metrics, purge removes only a stale route with our tag"
ip -n mffw-a route add 10.88.0.0/24 via 198.18.10.2 proto static
ip -n mffw-a route add 10.89.0.0/24 via 198.18.10.2 proto 109
ip -n mffw-a route add 10.99.0.0/24 via 198.18.10.2 proto 110
play route --diff
expect 'removed=\[.10.99.0.0/24 via 198.18.10.2 dev mffw-br table main metric 0.\]'
ip -n mffw-a route show
ip -n mffw-a route show | grep -q '10.88.0.0/24 via 198.18.10.2 dev mffw-br proto static' || fail "static route gone"
ip -n mffw-a route show | grep -q '10.89.0.0/24 via 198.18.10.2 dev mffw-br proto 109' || fail "proto 109 route gone"
ip -n mffw-a route show | grep -q '10.99.0.0/24' && fail "stale tagged route still there"
ip -n mffw-a route get 10.77.0.9 | grep -q 'via 198.18.10.2' || fail "metric 100 gateway not preferred"
play route
expect 'changed=False'
ip -n mffw-a route del 10.77.0.0/24 via 198.18.10.2 metric 100
ip -n mffw-a route get 10.77.0.9 | grep -q 'via 198.18.10.3' && echo "   failover: 10.77.0.9 now via 198.18.10.3"
play route
expect 'changed=True'

log "All proven"
