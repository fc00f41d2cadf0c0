#!/usr/bin/env bash
# Every test suite, one after the other, whatever the earlier ones gave; then a table of what
# passed and failed and how long each took.  `make test` (and so .ci/run) runs this.
#
#   tests/all.sh                      every step
#   tests/all.sh lint versions        only the steps named
#
# Steps: units sanity lint build docs ipam scenarios versions containers.  tests/setup.sh runs first;
# when it fails nothing else can run.  The namespace steps (scenarios, versions) run with the root
# namespace's IP forwarding off (tests/lab/forwarding-off.sh), as on a freshly booted machine.
# Each step's output is shown and kept in tests/output/all/<step>.log.  Exits non-zero when any
# step failed.  Run as root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$ROOT/.tmp/collections" ANSIBLE_NOCOLOR=1
LOG_DIR=$ROOT/tests/output/all

all=(units sanity lint build docs ipam scenarios versions containers)
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=("${all[@]}")

command_of() {
    case $1 in
        units) echo "pytest -q tests/unit --hypothesis-profile=ci" ;;
        sanity) echo "bash tests/sanity/run.sh" ;;
        lint) echo "ansible-lint --profile production --offline" ;;
        build) echo "bash tests/build.sh" ;;
        docs) echo "bash tests/docs.sh" ;;
        ipam) echo "bash tests/integration/ipam/run.sh" ;;
        scenarios) echo "bash tests/lab/forwarding-off.sh bash tests/integration/run.sh" ;;
        versions) echo "bash tests/lab/forwarding-off.sh bash tests/integration/versions/run.sh" ;;
        containers) echo "bash tests/containers/run.sh" ;;
        *) return 1 ;;
    esac
}
for s in "${steps[@]}"; do
    command_of "$s" >/dev/null || { echo "all.sh: no step $s (steps: ${all[*]})" >&2; exit 2; }
done

mkdir -p "$LOG_DIR"
total=$SECONDS
echo "=== setup"
if ! bash tests/setup.sh; then
    echo "all.sh: tests/setup.sh failed: no step can run" >&2
    exit 1
fi

failed=()
rows=()
for s in "${steps[@]}"; do
    cmd=$(command_of "$s")
    echo "=== $s: $cmd (log: $LOG_DIR/$s.log)"
    start=$SECONDS
    # shellcheck disable=SC2086  # the command is words
    if $cmd 2>&1 | tee "$LOG_DIR/$s.log"; then
        result=passed
    else
        result=FAILED
        failed+=("$s")
    fi
    rows+=("$(printf '%-11s %-7s %5ds' "$s" "$result" $((SECONDS - start)))")
    echo "=== $s: $result in $((SECONDS - start)) s"
done

echo
echo "=== step        result   time"
printf '    %s\n' "${rows[@]}"
printf '    %-11s %-7s %5ds\n' total "$([ ${#failed[@]} = 0 ] && echo passed || echo FAILED)" $((SECONDS - total))
if [ ${#failed[@]} -gt 0 ]; then
    echo "=== failed: ${failed[*]} (logs in $LOG_DIR)"
    exit 1
fi
