#!/usr/bin/env bash
# The supported controller versions, for real: with the oldest ansible-core that meta/runtime.yml
# claims (2.16, Python 3.11) and the newest that installs here (2.21, pyenv's Python 3.13), each in
# its own venv with its own pinned collections (tests/requirements-<v>.txt), converge a 3-host
# WireGuard mesh on a namespace lab (a LAN routed behind h3), re-run it (0 changes), run it with
# --check (0 changes) and ping across the tunnels and to the routed LAN.  The next version first
# converges over the mesh the previous one left (an upgraded controller: 0 changes), then builds
# its own from fresh hosts.
#
#   tests/integration/versions/run.sh            2.16 then 2.21
#   tests/integration/versions/run.sh 2.21       only the ones named
#
# Exits non-zero when any check fails; the lab (versions-matrix) is torn down on exit.  Run as
# root.  Logs: tests/output/versions/.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 2
ROOT=$PWD
HERE=tests/integration/versions
LAB="versions-matrix"
LOG_DIR=${LOG_DIR:-$ROOT/tests/output/versions}
if [ $# -gt 0 ]; then versions=("$@"); else versions=(2.16 2.21); fi

bash tests/setup.sh >/dev/null || { echo "versions: tests/setup.sh failed" >&2; exit 2; }
rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"

# shellcheck disable=SC2317  # called by the trap
cleanup() { python3 tests/lab/lab.py down --lab "$LAB" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=0
summary=()
fail() { echo "versions: FAILED: $*" >&2; failed=1; }

# A venv and a collection path for version $1, made again only when its requirement file changed.
prepare() {
    local v=$1 req=tests/requirements-$1.txt dir=.tmp/versions/$1 python bundle coll tmp
    [ -f "$req" ] || { echo "versions: no $req" >&2; return 1; }
    case $(sed -n 's/^# python: //p' "$req") in
        "pyenv "*) python="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")/versions/$(sed -n 's/^# python: pyenv //p' "$req")/bin/python" ;;
        *) python=$(sed -n 's/^# python: //p' "$req") ;;
    esac
    if [ ! -x "$dir/venv/bin/ansible-playbook" ] || ! cmp -s "$req" "$dir/.requirements"; then
        rm -rf "$dir"
        "$python" -m venv "$dir/venv" || return 1
        "$dir/venv/bin/pip" install -q --disable-pip-version-check -r "$req" || return 1
        coll=$dir/collections/ansible_collections
        mkdir -p "$coll/meshforge"
        bundle=$(sed -n 's/^# bundle: //p' "$req")
        tmp=$(mktemp -d)
        "$dir/venv/bin/pip" download -q --disable-pip-version-check --no-deps "$bundle" -d "$tmp" || { rm -rf "$tmp"; return 1; }
        "$dir/venv/bin/python" - "$tmp"/ansible-*.whl "$coll/.." <<'PY' || { rm -rf "$tmp"; return 1; }
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist()
                        if n.startswith(('ansible_collections/ansible/posix/', 'ansible_collections/community/crypto/'))])
PY
        rm -rf "$tmp"
        cp "$req" "$dir/.requirements"
    fi
    ln -sfn "$ROOT" "$dir/collections/ansible_collections/meshforge/vpn"
}

lab_up() {
    python3 tests/lab/lab.py up --lab "$LAB" --hosts h1,h2,h3 --lan h3 >/dev/null 2>"$LOG_DIR/lab.log" \
        || { cat "$LOG_DIR/lab.log" >&2; return 1; }
}

# ansible-playbook on the mesh; $1 log name, $2 expectation (changes | none), more args to ansible-playbook.
# Checks the PLAY RECAP: every host ok, and some change (changes) or none at all (none).
converge() {
    local name=$1 expect=$2 log=$LOG_DIR/$v-$1.log changed hosts
    shift 2
    if ! ansible-playbook -i "$HERE/inventory/" -i "$(python3 tests/lab/lab.py inventory --lab "$LAB")" \
            "$@" meshforge.vpn.wireguard_mesh >"$log" 2>&1; then
        grep -E '^(fatal|failed):|ERROR' "$log" | cut -c1-1000 >&2
        fail "$v $name: ansible-playbook failed (log: $log)"
        return 1
    fi
    hosts=$(grep -cE '^h[123] +: ok=[0-9]+ +changed=[0-9]+ +unreachable=0 +failed=0' "$log")
    changed=$(sed -nE 's/^h[123] +: ok=[0-9]+ +changed=([0-9]+) .*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    [ "$hosts" = 3 ] || { fail "$v $name: not all of h1..h3 ok in the recap (log: $log)"; return 1; }
    if [ "$expect" = none ] && [ "$changed" != 0 ]; then
        grep -B3 -E '^changed:' "$log" | cut -c1-300 >&2
        fail "$v $name: $changed changes, expected none (log: $log)"
        return 1
    fi
    if [ "$expect" = changes ] && [ "$changed" = 0 ]; then
        fail "$v $name: no change on fresh hosts (log: $log)"
        return 1
    fi
    echo "versions: $v $name: $changed changes"
}

# ansible.posix loads under this version, and its sysctl module finds nothing to change on h3, where the role's
# interface call turned forwarding on (the file in ansible.posix.sysctl's own format, which hosts it configured keep).
posix_agrees() {
    local out
    out=$(ansible -i "$(python3 tests/lab/lab.py inventory --lab "$LAB")" h3 --check -m ansible.posix.sysctl \
        -a "name=net.ipv4.ip_forward value=1 sysctl_file=/etc/sysctl.d/90-meshforge-vpn.conf reload=false" 2>&1)
    case $out in
        *'"changed": false'*) echo "versions: $v ansible.posix.sysctl on h3: no change" ;;
        *) fail "$v: ansible.posix.sysctl would change h3's forwarding: $out" ;;
    esac
}

# Traffic through the tunnels: every host pings every other's overlay addresses (IPv4, IPv6), and
# h1 and h2 ping the LAN host behind h3 (a routed subnet: forwarding on h3, routes on h1 and h2).
pings() {
    local src dst a addrs=() try ok
    for dst in h1 h2 h3; do
        addrs+=("$dst=$(python3 tests/lab/lab.py exec --lab "$LAB" "$dst" -- ip -o addr show dev wg0 \
            | awk '$3 ~ /inet/ && $4 !~ /^fe80/ {sub(/\/.*/, "", $4); printf "%s,", $4}')")
    done
    for src in h1 h2 h3; do
        for entry in "${addrs[@]}" "h3lan=198.19.13.2,"; do
            dst=${entry%%=*}
            [ "$dst" = "$src" ] && continue
            [ "$dst" = h3lan ] && [ "$src" = h3 ] && continue
            IFS=, read -ra list <<<"${entry#*=}"
            [ "${#list[@]}" -gt 0 ] || { fail "$v ping: $dst has no address on wg0"; continue; }
            for a in "${list[@]}"; do
                ok=0
                for try in 1 2 3 4 5; do
                    if python3 tests/lab/lab.py exec --lab "$LAB" "$src" -- ping -c1 -W1 "$a" >/dev/null 2>&1; then
                        ok=1
                        break
                    fi
                    sleep "0.$try"
                done
                [ $ok = 1 ] || fail "$v ping $src -> $dst $a: no answer"
            done
        done
    done
    echo "versions: $v pings: ${addrs[*]} h3lan=198.19.13.2"
}

export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# Each version's own ansible.cfg-free environment: nothing from the main venv or collection path.
base_path=$PATH
previous=""
for v in "${versions[@]}"; do
    start=$SECONDS
    prep=0
    before=$failed
    echo "=== ansible-core $v"
    if ! prepare "$v" >"$LOG_DIR/$v-prepare.log" 2>&1; then
        cat "$LOG_DIR/$v-prepare.log" >&2
        fail "$v: venv or collections could not be made"
    else
        prep=$((SECONDS - start))
        export PATH="$ROOT/.tmp/versions/$v/venv/bin:$base_path"
        export ANSIBLE_COLLECTIONS_PATH="$ROOT/.tmp/versions/$v/collections"
        got=$(ansible --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p')
        case $got in "$v".*) ;; *) fail "$v: ansible --version says ${got:-nothing}" ;; esac
        # the dependencies load under this version: community.crypto's crypto_info on the controller,
        # ansible.posix's sysctl on h3 after the converge (posix_agrees)
        ansible -i localhost, -c local -e "ansible_python_interpreter=$ROOT/.tmp/versions/$v/venv/bin/python" \
            localhost -m community.crypto.crypto_info >"$LOG_DIR/$v-crypto.log" 2>&1 \
            || fail "$v: community.crypto.crypto_info failed (log: $LOG_DIR/$v-crypto.log)"
        if [ -n "$previous" ]; then
            # an upgraded controller on the mesh the previous version built, with that version's controller state
            export MESHFORGE_VERSIONS_STATE=$LOG_DIR/$previous-state
            converge "upgrade-from-$previous" none
        fi
        export MESHFORGE_VERSIONS_STATE=$LOG_DIR/$v-state
        mkdir -p "$MESHFORGE_VERSIONS_STATE"
        if lab_up; then
            converge converge changes && pings && posix_agrees
            converge rerun none
            converge check none --check
        else
            fail "$v: lab up failed"
        fi
        previous=$v
        export PATH=$base_path
    fi
    result=passed
    [ $failed = "$before" ] || result=FAILED
    summary+=("$(printf '%-6s %-7s %4ds (venv and collections %ds)' "$v" "$result" $((SECONDS - start)) "$prep")")
done

echo
echo "=== ansible-core result   time"
printf '    %s\n' "${summary[@]}"
exit $failed
