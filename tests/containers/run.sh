#!/usr/bin/env bash
# The container scenarios end to end: controller setup (tests/setup.sh), podman
# (setup.sh), the image (build.sh, built once and shared by every scenario),
# then `molecule test -s <scenario>` for each, one after the other.
#
#   tests/containers/run.sh                  systemd and ipsec_systemd
#   tests/containers/run.sh ipsec_systemd    only the ones named
#
# Exits non-zero when any step fails.  Whatever happens, the containers and the
# networks the scenarios make are removed on exit (only those: they carry the
# label org.meshforge.test=molecule-<scenario>).  Run as root.  Logs:
# tests/output/containers/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
LOG_DIR=${LOG_DIR:-$ROOT/tests/output/containers}
export CONTAINERS_CONF="$ROOT/tests/containers/containers.conf"
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=(systemd ipsec_systemd)
fi

# shellcheck disable=SC2317  # called by the trap
cleanup() {
    local ids s
    for s in "${scenarios[@]}"; do
        ids=$(podman ps -a -q --filter "label=org.meshforge.test=molecule-$s" 2>/dev/null)
        # shellcheck disable=SC2086  # one word per container id
        [ -z "$ids" ] || podman rm -f -t 0 $ids >/dev/null 2>&1 || true
        ids=$(podman network ls -q --filter "label=org.meshforge.test=molecule-$s" 2>/dev/null)
        # shellcheck disable=SC2086  # one word per network name
        [ -z "$ids" ] || podman network rm $ids >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$LOG_DIR"
start=$SECONDS
bash tests/setup.sh >/dev/null || { echo "run.sh: tests/setup.sh failed" >&2; exit 2; }
bash tests/containers/setup.sh || { echo "run.sh: tests/containers/setup.sh failed" >&2; exit 2; }
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.tmp/collections"
build_start=$SECONDS
bash tests/containers/build.sh || { echo "run.sh: tests/containers/build.sh failed" >&2; exit 2; }
build_time=$((SECONDS - build_start))

failed=0
summary=()
for s in "${scenarios[@]}"; do
    echo "=== molecule test -s $s (log: $LOG_DIR/$s.log)"
    test_start=$SECONDS
    # molecule skips create when its state says the instances exist, as a run cut short leaves it.
    if ! NO_COLOR=1 molecule destroy -s "$s" > "$LOG_DIR/$s-destroy.log" 2>&1; then
        echo "run.sh: molecule destroy -s $s failed (log: $LOG_DIR/$s-destroy.log)" >&2
        result=FAILED
        failed=1
    elif NO_COLOR=1 molecule test -s "$s" > "$LOG_DIR/$s.log" 2>&1; then
        result=passed
    else
        result=FAILED
        failed=1
        grep -E '^(fatal|failed):|^\[ERROR\]|CRITICAL Ansible' "$LOG_DIR/$s.log" | cut -c1-2000 >&2
    fi
    echo "=== $s: $result (molecule $((SECONDS - test_start)) s)"
    summary+=("$(printf '%-14s %-7s %4ds' "$s" "$result" $((SECONDS - test_start)))")
done

echo
echo "=== image $build_time s; scenario     result   time"
printf '    %s\n' "${summary[@]}"
echo "=== total $((SECONDS - start)) s"
exit $failed
