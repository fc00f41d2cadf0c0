#!/usr/bin/env bash
# Prepare a fresh Debian machine (as root) to run the demo and the tests:
# host packages for the lab, a pinned Python venv, and the collections on a path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (the lab creates network namespaces)" >&2
    exit 1
fi

bash tests/apt-install.sh wireguard-tools wireguard-go nftables iproute2 openssh-server openssh-client chromium \
    iputils-ping procps util-linux python3 python3-venv zbar-tools dnsmasq-base \
    strongswan-swanctl charon-systemd libcharon-extra-plugins libstrongswan-standard-plugins python3-cryptography nebula python3-yaml

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/ansible-playbook ] || ! cmp -s tests/requirements.txt .venv/.requirements; then
    "$PYTHON" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -r tests/requirements.txt
    cp tests/requirements.txt .venv/.requirements
fi

# This collection, and the collections it depends on, on one path.  Galaxy is not
# needed: ansible.posix (and containers.podman, for the podman connection of the
# systemd scenario) come out of the pinned `ansible` package's wheel.
COLL=.tmp/collections/ansible_collections
mkdir -p "$COLL/meshforge"
ln -sfn "$ROOT" "$COLL/meshforge/vpn"
ANSIBLE_BUNDLE=$(sed -n 's/^# bundle: //p' tests/requirements.txt)
bundled=""
for c in ansible/posix containers/podman community/crypto; do
    [ -f "$COLL/$c/MANIFEST.json" ] || bundled="$bundled ansible_collections/$c/"
done
if [ -n "$bundled" ]; then
    tmp=$(mktemp -d)
    .venv/bin/pip download -q --no-deps "$ANSIBLE_BUNDLE" -d "$tmp"
    # shellcheck disable=SC2086  # one word per collection
    .venv/bin/python - "$tmp"/ansible-*.whl "$COLL/.." $bundled <<'PY'
import sys, zipfile
wheel, dest, prefixes = sys.argv[1], sys.argv[2], tuple(sys.argv[3:])
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith(prefixes)])
PY
    rm -rf "$tmp"
fi
# The vici client for the IPsec scenarios' hosts: lab hosts have no route to PyPI, so the role installs it
# from this directory (ipsec_site_pip_extra_args).
VICI_PIN=vici==6.0.3
if ! ls .tmp/wheels/vici-6.0.3-*.whl >/dev/null 2>&1; then
    .venv/bin/pip download -q --no-deps "$VICI_PIN" -d .tmp/wheels
fi
echo "setup: ready (venv .venv, collections in .tmp/collections)"
