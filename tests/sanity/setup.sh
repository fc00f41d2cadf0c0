#!/usr/bin/env bash
# Lets `ansible-test sanity` and `ansible-test units` run without the internet.
#
# ansible-test bootstraps pip in every virtual environment it makes with a
# script it downloads from a host this machine cannot reach, and caches that
# script as ~/.ansible/test/cache/get_pip_<version>.py.  This puts a stand-in
# there: the pip wheel of the version ansible-test wants (from PyPI, which is
# reachable) and a short script that installs it the way get-pip.py would.
# Idempotent; about 2 s on a first run, nothing to do after.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${ANSIBLE_TEST_PYTHON:-$root/.venv/bin/python}
cache=${HOME}/.ansible/test/cache

# The version ansible-test pins, read from ansible-test itself so an upgrade of ansible-core follows.
pip_version=$("$python" - <<'PY'
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version='3.11'))['pip'])
PY
)
script=$cache/get_pip_${pip_version//./_}.py
mkdir -p "$cache"

if ! compgen -G "$cache/pip-${pip_version}-*.whl" >/dev/null; then
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps "pip==${pip_version}" -d "$cache"
fi

cat > "$script.tmp" <<PY
"""Offline stand-in for get-pip.py ${pip_version}, written by meshforge.vpn tests/sanity/setup.sh."""
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheel = sorted(glob.glob(os.path.join(here, 'pip-${pip_version}-*.whl')))[-1]
sys.path.insert(0, wheel)

from pip._internal.cli.main import main  # noqa: E402

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall', '--find-links', here] + args))
PY
mv "$script.tmp" "$script"
echo "ansible-test pip ${pip_version} bootstrap: $script"

# The shellcheck sanity test is skipped with only a warning when shellcheck is missing: install it (Debian package).
if ! command -v shellcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 shellcheck >/dev/null; }
    apt_install 2>/dev/null || { apt-get update -qq -o DPkg::Lock::Timeout=600 && apt_install; } ||
        echo "warning: could not install shellcheck; the shellcheck sanity test will be skipped" >&2
fi
