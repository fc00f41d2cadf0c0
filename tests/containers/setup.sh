#!/usr/bin/env bash
# Install rootful podman from Debian's packages (idempotent; run as root).
# The project's podman settings are in containers.conf beside this script:
# export CONTAINERS_CONF=<this dir>/containers.conf before calling podman.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
    echo "tests/containers/setup.sh: run as root" >&2
    exit 1
fi

# netavark (the network backend containers.conf names) calls iptables; catatonit is
# podman's --init; debootstrap makes build.sh's base image.
PACKAGES="podman runc netavark aardvark-dns iptables debootstrap catatonit"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends \
        $missing >/dev/null
fi
