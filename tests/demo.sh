#!/usr/bin/env bash
# The demo: set this Debian machine up, start a lab of three test hosts (network
# namespaces with sshd), build a WireGuard full mesh between them with the
# collection's playbook, prove it with pings, and print every peer's live state
# and the address ledger (who holds which overlay address).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/setup.sh
export ANSIBLE_COLLECTIONS_PATH=$PWD/.tmp/collections PATH=$PWD/.venv/bin:$PATH ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1}

LAB=${MESHFORGE_DEMO_LAB:-demo}
inventory=$(python3 tests/lab/lab.py up --lab "$LAB" --hosts h1,h2,h3 --group wireguard_mesh=h1,h2,h3)
echo "== lab $LAB is up; inventory: $inventory"

echo "== building the mesh: ansible-playbook meshforge.vpn.wireguard_mesh"
ansible-playbook -i "$inventory" meshforge.vpn.wireguard_mesh

echo "== traffic through the tunnels"
# shellcheck disable=SC2016  # the loop runs on the hosts, not here
ansible -i "$inventory" wireguard_mesh -o -m ansible.builtin.shell \
    -a 'for a in $(wg show wg0 allowed-ips | cut -f2 | cut -d/ -f1); do ping -c1 -W2 -q $a >/dev/null && echo -n "$a ok  " || echo -n "$a FAILED  "; done'

echo "== live status: ansible-playbook meshforge.vpn.status"
ansible-playbook -i "$inventory" meshforge.vpn.status

echo "== who holds which overlay address: ansible-playbook meshforge.vpn.ipam_status"
ansible-playbook -i "$inventory" meshforge.vpn.ipam_status

cat <<MSG
== The lab stays up for you to explore:
   export ANSIBLE_COLLECTIONS_PATH=$PWD/.tmp/collections PATH=$PWD/.venv/bin:\$PATH
   ansible-playbook -i $inventory meshforge.vpn.status
   python3 tests/lab/lab.py exec --lab $LAB h1 -- wg show
   Remove it with: python3 tests/lab/lab.py down --lab $LAB
MSG
