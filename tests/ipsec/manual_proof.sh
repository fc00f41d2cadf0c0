#!/usr/bin/env bash
# Manual proof of meshforge.vpn.ipsec_connection and ipsec_info against real charons (not run in CI).
#
# Two network namespaces (mfipsec-a, mfipsec-b) joined by a veth pair on 198.18.0.0/24, each with a
# "protected" subnet on its loopback (198.19.1.0/24, 198.19.2.0/24) and its own charon-systemd: own
# strongswan.conf and /etc/swanctl through ip netns' /etc/netns binds, own vici socket, kernel-libipsec
# (this kernel has no ESP), UDP encapsulation.  The modules run through ansible-playbook with
# connection=local inside each namespace, with a Python that has vici.
#
# Proves: tunnel up and a ping through it; a re-run reports changed=false and keeps the IKE SA (same
# unique id); check mode predicts a change without making it; bad input fails with nothing written;
# files are 0600 and the PSK is in no output; swanctl --load-all after a charon restart loads exactly
# what the module loaded (a re-run then changes nothing); state=absent closes and removes everything.
#
# Needs root, strongswan-swanctl, charon-systemd, libcharon-extra-plugins.  Cleans up everything it made:
# it kills only the charon PIDs it started and deletes only its own namespaces and /etc/netns entries.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANSIBLE_BIN=${ANSIBLE_BIN:-$ROOT/.venv/bin}
VENV=${IPSEC_PROOF_VENV:-/tmp/mfipsec-venv}
VICI_PIN=${VICI_PIN:-vici==6.0.3}
WORK=$(mktemp -d /tmp/mfipsec-proof.XXXXXX)
PSK="proof-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
SIDES=(a b)
PIDS=()
MADE_NETNS_DIR=

log() { printf '\n=== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    for side in "${SIDES[@]}"; do
        ip netns del "mfipsec-$side" 2>/dev/null
        rm -rf "/etc/netns/mfipsec-$side"
    done
    [ -n "$MADE_NETNS_DIR" ] && rmdir /etc/netns 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

for side in "${SIDES[@]}"; do
    if ip netns list | grep -qw "mfipsec-$side"; then
        echo "namespace mfipsec-$side exists already; not touching it" >&2
        SIDES=()
        exit 1
    fi
done

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import vici' 2>/dev/null; then
    log "Python with $VICI_PIN in $VENV"
    python3 -m venv --system-site-packages "$VENV"
    "$VENV/bin/pip" install -q "$VICI_PIN"
fi

COLLECTIONS="$WORK/collections"
mkdir -p "$COLLECTIONS/ansible_collections/meshforge"
ln -s "$ROOT" "$COLLECTIONS/ansible_collections/meshforge/vpn"

log "Namespaces, veth and protected subnets"
[ -d /etc/netns ] || MADE_NETNS_DIR=yes
ip netns add mfipsec-a
ip netns add mfipsec-b
ip link add mfipsec-va type veth peer name mfipsec-vb
ip link set mfipsec-va netns mfipsec-a
ip link set mfipsec-vb netns mfipsec-b
declare -A UNDERLAY=([a]=198.18.0.1 [b]=198.18.0.2) SUBNET=([a]=198.19.1 [b]=198.19.2)
for side in "${SIDES[@]}"; do
    ns=mfipsec-$side
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "mfipsec-v$side" up
    ip -n "$ns" address add "${UNDERLAY[$side]}/24" dev "mfipsec-v$side"
    ip -n "$ns" address add "${SUBNET[$side]}.1/24" dev lo
    etc=/etc/netns/$ns
    mkdir -p "$etc/swanctl" "$WORK/$side"
    for dir in conf.d x509 x509ca x509aa x509ac x509crl x509ocsp private pubkey rsa ecdsa bliss pkcs8 pkcs12; do
        install -d -m 0750 "$etc/swanctl/$dir"
    done
    printf 'include conf.d/*.conf\n' > "$etc/swanctl/swanctl.conf"
    # explicit plugin list: no stroke, lookip or error-notify (their sockets have fixed paths shared by all
    # namespaces); kernel-libipsec before kernel-netlink so that it handles the SAs
    cat > "$etc/strongswan.conf" <<CONF
charon-systemd {
    load = random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints aes gcm sha1 sha2 hmac kdf xcbc kernel-libipsec kernel-netlink socket-default vici updown
    journal {
        default = -1
    }
    plugins {
        vici {
            socket = unix://$WORK/$side/charon.vici
        }
    }
}
swanctl {
    load = pem pkcs1 pkcs8 x509 pubkey openssl random
    socket = unix://$WORK/$side/charon.vici
}
CONF
done

start_charon() {
    local side=$1 sock=$WORK/$1/charon.vici
    rm -f "$sock"
    ip netns exec "mfipsec-$side" setsid /usr/sbin/charon-systemd </dev/null >"$WORK/$side/charon.out" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { echo "charon on $side did not start" >&2; cat "$WORK/$side/charon.out" >&2; exit 1; }
    echo "charon on mfipsec-$side: pid $pid ($(cat "/proc/$pid/comm")), socket $sock"
}

log "charon per namespace"
for side in "${SIDES[@]}"; do start_charon "$side"; done

# run_side SIDE NAME [extra ansible-playbook args]: the playbook's JSON result in $WORK/NAME.json
run_side() {
    local side=$1 name=$2 peer
    shift 2
    peer=$([ "$side" = a ] && echo b || echo a)
    rm -f "$WORK/$name.json"
    ip netns exec "mfipsec-$side" env ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" \
        ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
        "$ANSIBLE_BIN/ansible-playbook" -i localhost, -c local "$ROOT/tests/ipsec/proof.yml" \
        -e ansible_python_interpreter="$VENV/bin/python" \
        -e proof_vici="unix://$WORK/$side/charon.vici" \
        -e proof_local_addr="${UNDERLAY[$side]}" -e proof_remote_addr="${UNDERLAY[$peer]}" \
        -e proof_local_id="$side.proof.example" -e proof_remote_id="$peer.proof.example" \
        -e proof_psk="$PSK" -e proof_local_ts="${SUBNET[$side]}.0/24" -e proof_remote_ts="${SUBNET[$peer]}.0/24" \
        -e proof_start_action="$([ "$side" = a ] && echo start || echo none)" \
        -e proof_out="$WORK/$name.json" "$@" > "$WORK/$name.log" || true
    [ -s "$WORK/$name.json" ] || { echo "FAIL: $name produced no result" >&2; cat "$WORK/$name.log" >&2; exit 1; }
    if grep -q -- "$PSK" "$WORK/$name.json" "$WORK/$name.log"; then
        echo "FAIL: the PSK appears in the output of $name" >&2
        exit 1
    fi
}

# summary NAME: one line per task result of a run
summary() {
    "$VENV/bin/python" - "$WORK/$1.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for name in ('connection', 'info'):
    res = data[name]
    if 'sas' in res:
        for sa in res['sas']:
            print('  %s: IKE SA %s #%s %s %s %s->%s, established %ss, rekey in %ss' % (
                name, sa['name'], sa['uniqueid'], sa['state'], sa['algorithms'], sa['local_host'],
                sa['remote_host'], sa['established'], sa['rekey_time']))
            for c in sa['child_sas']:
                print('    child %s #%s %s %s spi in/out %s/%s, %s->%s, in %s B/%s pkts, out %s B/%s pkts' % (
                    c['name'], c['uniqueid'], c['state'], c['algorithms'], c['spi_in'], c['spi_out'],
                    ','.join(c['local_ts']), ','.join(c['remote_ts']), c['bytes_in'], c['packets_in'],
                    c['bytes_out'], c['packets_out']))
        print('  %s: connections %s' % (name, json.dumps(res['connections'], sort_keys=True)))
    else:
        keys = ('changed', 'failed', 'msg', 'field', 'loaded', 'reasons', 'config_changed', 'secrets_changed',
                'terminated')
        print('  %s: %s' % (name, json.dumps(dict((k, res[k]) for k in keys if k in res), sort_keys=True)))
PY
}

field() {  # field NAME connection|info PYTHON-EXPRESSION-ON-r
    "$VENV/bin/python" -c "import json; r=json.load(open('$WORK/$1.json'))['$2']; print($3)"
}

log "First run: B (responder) then A (initiator, start_action=start)"
run_side b b1; summary b1
run_side a a1; summary a1

log "Waiting for the IKE SA and the child"
for _ in $(seq 50); do
    ip netns exec mfipsec-a swanctl --list-sas 2>/dev/null | grep -q INSTALLED && break
    sleep 0.2
done
ip netns exec mfipsec-a swanctl --list-sas

log "Files written on A"
ls -l /etc/netns/mfipsec-a/swanctl/conf.d/
cat /etc/netns/mfipsec-a/swanctl/conf.d/proof.conf
if grep -q -- "$PSK" /etc/netns/mfipsec-a/swanctl/conf.d/proof.conf; then fail "PSK in proof.conf"; fi
echo "(the PSK is not in proof.conf)"

log "Ping through the tunnel: 198.19.1.1 -> 198.19.2.1"
ip netns exec mfipsec-a ping -c 3 -W 2 -I 198.19.1.1 198.19.2.1

log "Second run of both sides: nothing changes, the IKE SA stays"
run_side b b2; summary b2
run_side a a2; summary a2
UID1=$(field a2 info "r['sas'][0]['uniqueid']")
EST1=$(field a2 info "r['sas'][0]['established']")
[ "$(field a2 connection "r['changed']")" = False ] || fail "re-run of A changed"
[ "$(field b2 connection "r['changed']")" = False ] || fail "re-run of B changed"
sleep 2
run_side a a3; summary a3
UID2=$(field a3 info "r['sas'][0]['uniqueid']")
EST2=$(field a3 info "r['sas'][0]['established']")
echo "IKE SA unique id before/after re-run: $UID1/$UID2, established $EST1 s -> $EST2 s"
[ "$UID1" = "$UID2" ] || fail "the IKE SA was replaced"
[ "$(field a3 connection "r['changed']")" = False ] || fail "third run of A changed"

log "Check mode with another rekey_time: predicts a change, makes none"
run_side a a-check -C --diff -e proof_rekey_time=7200; summary a-check
run_side a a4; summary a4
[ "$(field a-check connection "r['changed']")" = True ] || fail "check mode predicted no change"
[ "$(field a4 connection "r['changed']")" = False ] || fail "check mode changed something"
[ "$(field a4 info "r['sas'][0]['uniqueid']")" = "$UID1" ] || fail "check mode replaced the IKE SA"

log "Bad input: a weak proposal fails, nothing is written"
before=$(sha256sum /etc/netns/mfipsec-a/swanctl/conf.d/*)
run_side a a-weak -e proof_expect_failure=true -e '{"proof_proposals": ["aes256-sha1-modp1024"]}'; summary a-weak
[ "$(field a-weak connection "r['failed']")" = True ] || fail "a weak proposal was accepted"
[ "$before" = "$(sha256sum /etc/netns/mfipsec-a/swanctl/conf.d/*)" ] || fail "a failed run changed files"

log "Restart charon on B and load its files with swanctl --load-all (what a reboot does)"
kill "${PIDS[1]}"
for _ in $(seq 50); do kill -0 "${PIDS[1]}" 2>/dev/null || break; sleep 0.1; done
start_charon b
ip netns exec mfipsec-b swanctl --load-all --noprompt
run_side b b3; summary b3
[ "$(field b3 connection "r['changed']")" = False ] || fail "swanctl --load-all loaded something else"

log "A re-initiates by close_action=start (B closed the SA when it stopped); ping again; a re-run of A changes nothing"
for _ in $(seq 100); do
    ip netns exec mfipsec-a swanctl --list-sas 2>/dev/null | grep -q INSTALLED && break
    sleep 0.2
done
ip netns exec mfipsec-a ping -c 2 -W 2 -I 198.19.1.1 198.19.2.1
run_side a a5; summary a5
[ "$(field a5 connection "r['changed']")" = False ] || fail "re-run after the peer's restart changed"

log "state=absent on A while the tunnel is up: unloads, closes the SAs, removes the files; then again: no change"
run_side a a-absent -e proof_state=absent; summary a-absent
ls -l /etc/netns/mfipsec-a/swanctl/conf.d/
run_side a a-absent2 -e proof_state=absent; summary a-absent2
run_side b b4; summary b4
[ "$(field a-absent connection "r['changed']")" = True ] || fail "absent changed nothing"
[ "$(field a-absent connection "len(r['terminated'])")" = 1 ] || fail "absent closed no IKE SA"
[ "$(field a-absent2 connection "r['changed']")" = False ] || fail "second absent changed"
[ "$(field b4 info "len(r['sas'])")" = 0 ] || fail "B still has an SA"

log "PASS"
