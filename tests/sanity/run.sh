#!/usr/bin/env bash
# Runs ansible-test on a clean copy of the collection, offline.
#
#   tests/sanity/run.sh [sanity|units] [more ansible-test options]
#
# ansible-test needs the collection at a path ending in
# ansible_collections/meshforge/vpn, and it only looks at files its source
# provider lists.  So the files git knows (tracked, plus untracked ones that
# .gitignore does not exclude) are copied to .tmp/sanity/ansible_collections/meshforge/vpn
# and a throw-away git repository is made there: without one, ansible-test
# would walk up to this repository, in which .tmp/ is ignored, and see no file.
# Whatever is git-ignored here (.ansible/ from ansible-lint, .venv, .tmp,
# tests/output) is never copied, so it cannot upset the run.
#
# Sanity runs with --python 3.11 --local: the interpreter of .venv, no other
# Python version.  The exit code is ansible-test's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command=${1:-sanity}
[ $# -gt 0 ] && shift
venv=${VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"

bash "$root/tests/sanity/setup.sh" >/dev/null

dest=$root/.tmp/sanity/ansible_collections/meshforge/vpn
rm -rf "$dest"
mkdir -p "$dest"
(
    cd "$root"
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
        # a tracked file deleted in the work tree is skipped
        if [ -e "$path" ] || [ -L "$path" ]; then
            printf '%s\0' "$path"
        fi
    done | xargs -0 --no-run-if-empty cp -P --parents -t "$dest"
)
git -C "$dest" init -q

cd "$dest"
case $command in
    sanity)
        exec ansible-test sanity --python 3.11 --local --color no "$@"
        ;;
    units)
        exec ansible-test units --python 3.11 --venv --color no "$@"
        ;;
    *)
        echo "usage: $0 [sanity|units] [ansible-test options]" >&2
        exit 2
        ;;
esac
