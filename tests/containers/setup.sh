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
bash "$(dirname "$0")/../apt-install.sh" podman runc netavark aardvark-dns iptables debootstrap catatonit
