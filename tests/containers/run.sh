#!/usr/bin/env bash
# The systemd scenario end to end: controller setup (tests/setup.sh), podman
# (setup.sh), the image (build.sh, cached), then `molecule test -s systemd`.
# Exits non-zero when any step fails.  Whatever happens, the containers and the
# network the scenario makes are removed on exit (only those: they carry its
# label).  Run as root.  Logs: tests/output/containers/.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
LABEL=org.meshforge.test=molecule-systemd
LOG_DIR=${LOG_DIR:-$ROOT/tests/output/containers}
export CONTAINERS_CONF="$ROOT/tests/containers/containers.conf"

# shellcheck disable=SC2317  # called by the trap
cleanup() {
    local ids
    ids=$(podman ps -a -q --filter "label=$LABEL" 2>/dev/null)
    # shellcheck disable=SC2086  # one word per container id
    [ -z "$ids" ] || podman rm -f -t 0 $ids >/dev/null 2>&1 || true
    ids=$(podman network ls -q --filter "label=$LABEL" 2>/dev/null)
    # shellcheck disable=SC2086  # one word per network name
    [ -z "$ids" ] || podman network rm $ids >/dev/null 2>&1 || true
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

echo "=== molecule test -s systemd (log: $LOG_DIR/systemd.log)"
test_start=$SECONDS
# molecule skips create when its state says the instances exist, as a run cut short leaves it.
NO_COLOR=1 molecule destroy -s systemd > "$LOG_DIR/systemd-destroy.log" 2>&1 \
    || { echo "run.sh: molecule destroy failed (log: $LOG_DIR/systemd-destroy.log)" >&2; exit 2; }
if NO_COLOR=1 molecule test -s systemd > "$LOG_DIR/systemd.log" 2>&1; then
    result=passed
    rc=0
else
    result=FAILED
    rc=1
    grep -E '^(fatal|failed):|^\[ERROR\]|CRITICAL Ansible' "$LOG_DIR/systemd.log" | cut -c1-2000 >&2
fi
echo "=== systemd: $result (image $build_time s, molecule $((SECONDS - test_start)) s, total $((SECONDS - start)) s)"
exit $rc
