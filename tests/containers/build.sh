#!/usr/bin/env bash
# Build the systemd test-host image (localhost/meshforge-systemd:bookworm) once.
# The image carries a label with a hash of its inputs (Containerfile, this
# script, the apt sources it copies in); when that matches, nothing is built.
#
#   tests/containers/build.sh            build if missing or out of date
#   tests/containers/build.sh --force    build again
#
# No registry is needed: the base is a debootstrap of bookworm from the mirror
# of this machine's own apt sources, imported with `podman import`.  Run as root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$HERE/containers.conf"
IMAGE=${MESHFORGE_SYSTEMD_IMAGE:-localhost/meshforge-systemd:bookworm}
SUITE=bookworm
LABEL=org.meshforge.inputs-sha256

bash "$HERE/setup.sh"

context=$(mktemp -d)
rootfs=""
base=""
cleanup() {
    rm -rf "$context"
    [ -z "$rootfs" ] || rm -rf "$rootfs"
    [ -z "$base" ] || podman rmi -f "$base" >/dev/null 2>&1 || true
}
trap cleanup EXIT

python3 "$HERE/apt_sources.py" sources "$SUITE" > "$context/debian.sources"
cp "$HERE/Containerfile" "$context/"
hash=$(cat "$HERE/Containerfile" "$HERE/build.sh" "$context/debian.sources" | sha256sum | cut -d' ' -f1)

if [ "${1:-}" != --force ] && [ "$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null)" = "$hash" ]; then
    echo "build.sh: $IMAGE is up to date"
    exit 0
fi

start=$SECONDS
mirror=$(python3 "$HERE/apt_sources.py" mirror "$SUITE")
rootfs=$(mktemp -d)
echo "build.sh: debootstrap $SUITE from $mirror"
debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" > "$context/debootstrap.log" 2>&1 \
    || { tail -20 "$context/debootstrap.log" >&2; exit 1; }
base=localhost/meshforge-rootfs:$SUITE-$$
tar -C "$rootfs" -c . | podman import -q - "$base" >/dev/null
rm -rf "$rootfs"
rootfs=""
old=$(podman image inspect --format '{{ .Id }}' "$IMAGE" 2>/dev/null || true)
podman build --squash-all --build-arg BASE="$base" --label "$LABEL=$hash" -t "$IMAGE" "$context" > "$context/build.log" 2>&1 \
    || { tail -30 "$context/build.log" >&2; exit 1; }
# one image (squashed: it does not keep the imported base, which goes on exit), and an out-of-date build goes here
new=$(podman image inspect --format '{{ .Id }}' "$IMAGE")
[ -z "$old" ] || [ "$old" = "$new" ] || podman rmi "$old" >/dev/null 2>&1 || true
echo "build.sh: built $IMAGE in $((SECONDS - start)) s"
