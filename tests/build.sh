#!/usr/bin/env bash
# The collection as users get it: build the tarball, install it into an empty
# path, and check that ansible-doc renders every module and role from there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.tmp/dist
rm -rf "$out" .tmp/installed
mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" >/dev/null
tarball=$(find "$out" -name 'meshforge-vpn-*.tar.gz')
if tar -tzf "$tarball" | grep -E '(^|/)(\.venv|\.tmp|\.ansible|\.git)/' >/dev/null; then
    echo "build: the tarball contains development files" >&2
    exit 1
fi
export ANSIBLE_COLLECTIONS_PATH=$PWD/.tmp/installed:$PWD/.tmp/collections
ansible-galaxy collection install --force --no-deps -p .tmp/installed "$tarball" >/dev/null
installed=.tmp/installed/ansible_collections/meshforge/vpn
for module in "$installed"/plugins/modules/*.py; do
    name=meshforge.vpn.$(basename "$module" .py)
    ansible-doc -t module "$name" >/dev/null
done
for filter in wireguard_mesh_plan wireguard_mesh_psk wireguard_status_table; do
    ansible-doc -t filter "meshforge.vpn.$filter" >/dev/null
done
for role in "$installed"/roles/*/; do
    ansible-doc -t role -r "$installed/roles" "$(basename "$role")" >/dev/null
done
ansible-playbook --syntax-check -i localhost, meshforge.vpn.wireguard_mesh >/dev/null
ansible-playbook --syntax-check -i localhost, meshforge.vpn.wireguard_status >/dev/null
ansible-playbook --syntax-check -i localhost, meshforge.vpn.remove_host -e wireguard_mesh_remove=h9 >/dev/null
ansible-playbook --syntax-check -i localhost, meshforge.vpn.rotate_keys >/dev/null
ansible-playbook --syntax-check -i localhost, meshforge.vpn.audit_report >/dev/null
# The execution environment: ansible-builder finds the collection's controller-side
# dependencies (meta/execution-environment.yml) and writes a build context from
# the definition users build (no registry here, so the image itself is not built).
introspected=$(ansible-builder introspect --sanitize .tmp/installed)
for dep in "cryptography>=3.3  # from collection meshforge.vpn" \
           "openssh-client [platform:dpkg]  # from collection meshforge.vpn"; do
    if ! grep -qF -- "$dep" <<<"$introspected"; then
        echo "build: ansible-builder introspect does not list: $dep" >&2
        exit 1
    fi
done
rm -rf .tmp/ee
ansible-builder create -f execution-environment/execution-environment.yml -c .tmp/ee \
    --output-filename Containerfile >/dev/null
grep -q '^ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"$' .tmp/ee/Containerfile
grep -q 'name: meshforge.vpn' .tmp/ee/_build/requirements.yml
modules=$(find "$installed/plugins/modules" -name '*.py' | wc -l)
roles=$(find "$installed/roles" -mindepth 1 -maxdepth 1 -type d | wc -l)
echo "build: $tarball installs; ansible-doc renders $modules modules and $roles role(s); ansible-builder create wrote .tmp/ee"
