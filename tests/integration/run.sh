#!/usr/bin/env bash
# Run the molecule scenarios of extensions/molecule/ against namespace labs
# (tests/lab/lab.py), one after the other, and print how long each took.
#
#   tests/integration/run.sh                  full_mesh, hub_spoke, ipsec_site, firewall, mesh_ha, partial and nebula
#   tests/integration/run.sh hub_spoke        only the ones named
#
# (extensions/molecule/systemd runs on podman containers: tests/containers/run.sh.)
#
# `make test` runs it as tests/lab/forwarding-off.sh tests/integration/run.sh: with the root
# namespace's IP forwarding off, as on a fresh machine (lab hosts never inherit it: tests/lab/README.md).
#
# Exits non-zero when any scenario fails.  Whatever happens, the labs the
# scenarios make (molecule-<scenario>) are torn down on exit.  Run as root.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD

bash tests/setup.sh >/dev/null || { echo "run.sh: tests/setup.sh failed" >&2; exit 2; }
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.tmp/collections"

if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=(full_mesh hub_spoke ipsec_site firewall mesh_ha partial nebula dns)
fi

# shellcheck disable=SC2317  # called by the trap
cleanup() {
    for s in "${scenarios[@]}"; do
        python3 tests/lab/lab.py down --lab "molecule-$s" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOG_DIR=${LOG_DIR:-$ROOT/tests/output/integration}
mkdir -p "$LOG_DIR"
failed=0
summary=()
for s in "${scenarios[@]}"; do
    echo "=== molecule test -s $s (log: $LOG_DIR/$s.log)"
    start=$SECONDS
    # A clean start: no lab or molecule state left by an interrupted earlier run.
    python3 tests/lab/lab.py down --lab "molecule-$s" >/dev/null 2>&1
    molecule reset -s "$s" >/dev/null 2>&1
    if molecule test -s "$s" 2>&1 | tee "$LOG_DIR/$s.log"; then
        result=passed
    else
        result=FAILED
        failed=1
    fi
    summary+=("$(printf '%-12s %-7s %4ds' "$s" "$result" $((SECONDS - start)))")
done

echo
echo "=== scenario     result   time"
printf '    %s\n' "${summary[@]}"
exit $failed
