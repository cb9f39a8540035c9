#!/usr/bin/env bash
# make demo: start the Resolver emulator, run playbooks/demo.yml twice (the second run changes nothing), stop it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "${emulator_pid}" 2>/dev/null || true; rm -rf "${work}"' EXIT

python3_bin=$(command -v python)
"${python3_bin}" "${here}/tests/emulator/resolver_emulator.py" --ready-file "${work}/ready.json" &
emulator_pid=$!
for _ in $(seq 1 50); do [ -s "${work}/ready.json" ] && break; sleep 0.1; done
[ -s "${work}/ready.json" ] || { echo "the emulator did not start" >&2; exit 1; }

RESOLVER_URL=$("${python3_bin}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "${work}/ready.json")
RESOLVER_API_KEY=$("${python3_bin}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api_key"])' "${work}/ready.json")
export RESOLVER_URL RESOLVER_API_KEY DEMO_STORE_DIR="${work}" NO_PROXY=127.0.0.1,localhost
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1

echo "== first run: finds the membership and creates the token"
ansible-playbook -i localhost, "${here}/playbooks/demo.yml"
echo "== second run: nothing to do (changed=0)"
ansible-playbook -i localhost, "${here}/playbooks/demo.yml" | tee "${work}/second.log"
grep -q "changed=0" "${work}/second.log"
echo "== the token was stored with mode $(stat -c %a "${work}/okta-demo.token") (its value is not shown)"
