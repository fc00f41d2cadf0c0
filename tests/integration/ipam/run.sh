#!/usr/bin/env bash
# The address manager under concurrency, through Ansible: 50 hosts (local
# connection, nothing leaves the controller) allocate with 50 forks against one
# ledger file, twice over a fresh ledger.  Exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$ROOT/.tmp/collections" ANSIBLE_NOCOLOR=1
work=$ROOT/tests/output/ipam_forks
rm -rf "$work"
mkdir -p "$work"
{
    echo "ipam_forks:"
    echo "  hosts:"
    for i in $(seq -w 1 50); do echo "    fork$i:"; done
    echo "  vars:"
    echo "    ansible_connection: local"
    echo "    ansible_python_interpreter: $ROOT/.venv/bin/python"
} >"$work/inventory.yml"
for round in 1 2; do
    rm -f "$work/ledger.json" "$work/ledger.json.lock"
    ansible-playbook -i "$work/inventory.yml" -f 50 -e ipam_ledger="$work/ledger.json" \
        "$ROOT/tests/integration/ipam/forks.yml" >"$work/round$round.log" 2>&1 \
        || { cat "$work/round$round.log"; exit 1; }
    grep -o '"msg": "50 forks[^"]*"' "$work/round$round.log"
done
