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
# Sanity runs --local for every Python version ansible-test supports on managed
# hosts (3.8 to 3.13 for ansible-core 2.19; the modules declare no narrower
# python_requires): the controller tests under .venv's 3.11, the target tests
# (compile, import, ...) under each pythonX.Y found on PATH.  pyenv's shims do
# not work unactivated, so links to pyenv's interpreters go into
# .tmp/sanity-pythons/ at the head of PATH; a version with no interpreter here
# is named and skipped (SANITY_PYTHONS=3.11 runs one version only).  SANITY_DIR (default .tmp/sanity) is
# where the copy goes: two runs at once need two directories.  Units run
# with --python 3.11.  The exit code is ansible-test's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command=${1:-sanity}
[ $# -gt 0 ] && shift
venv=${VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"

bash "$root/tests/sanity/setup.sh" >/dev/null

# pythonX.Y for each supported version: the venv's own, else pyenv's newest X.Y.*, else the machine's.
pythons=$root/.tmp/sanity-pythons
rm -rf "$pythons"
mkdir -p "$pythons"
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
found=()
missing=()
for v in ${SANITY_PYTHONS:-3.8 3.9 3.10 3.11 3.12 3.13}; do
    candidates=("$venv/bin/python$v")
    mapfile -t -O 1 candidates < <(printf '%s\n' "$pyenv_root/versions/$v".*/bin/"python$v" | sort -V -r)
    candidates+=("/usr/bin/python$v")
    for c in "${candidates[@]}"; do
        if [ -x "$c" ] && "$c" -c 'import sys' 2>/dev/null; then
            ln -s "$c" "$pythons/python$v"
            found+=("$v")
            break
        fi
    done
    [ -e "$pythons/python$v" ] || missing+=("$v")
done
export PATH="$pythons:$PATH"
echo "sanity: Python ${found[*]}${missing[*]:+ (no interpreter for ${missing[*]}: skipped)}" >&2

dest=${SANITY_DIR:-$root/.tmp/sanity}/ansible_collections/meshforge/vpn
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
        python_args=()
        for v in "${found[@]}"; do python_args+=(--python "$v"); done
        [ ${#found[@]} -gt 1 ] && python_args=()   # no --python: every supported version on PATH
        exec ansible-test sanity "${python_args[@]}" --local --color no "$@"
        ;;
    units)
        exec ansible-test units --python 3.11 --venv --color no "$@"
        ;;
    *)
        echo "usage: $0 [sanity|units] [ansible-test options]" >&2
        exit 2
        ;;
esac
