#!/usr/bin/env bash
# `make demo`: converge playbooks/site.yml onto a throwaway systemd container standing in for a Strix
# box (no GPU: the orchestrator on the real vLLM on the CPU, the reviewer and utility on llama.cpp, small swap,
# SmolLM2 from a local Hugging Face-compatible mirror, the images built locally), then print the health table,
# one real answer from each tier, and OpenCode's default agent answering through the vLLM orchestrator.
# `make demo-down` stops the tiers and removes the container and its swap file.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"

name=strix-demo
scratch=/var/tmp/strix-opencode-demo

down() {
  if docker container inspect "$name" >/dev/null 2>&1; then
    ansible-playbook -i inventory/demo.yml playbooks/down.yml >/dev/null || true
  fi
  # Whatever down could not reach (a box already gone): the demo stack's containers, by label.
  leftovers=$(docker ps -aq --filter label=org.strix-opencode.stack=demo)
  [ -z "$leftovers" ] || docker rm -f $leftovers >/dev/null
  docker rm -f "$name" >/dev/null 2>&1 || true
  bash tests/support/release-swap.sh "$scratch"
  echo "demo: $name, its tiers, its swap file and its downloads ($scratch) removed"
}

up() {
  if ! docker container inspect "$name" >/dev/null 2>&1; then
    mkdir -p "$scratch"
    docker run -d --name "$name" --hostname "$name" \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
      --tmpfs /run --tmpfs /run/lock --cgroupns=host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/run/docker.sock:/var/run/docker.sock \
      -v "$scratch:$scratch" \
      -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/host-ca-certificates.crt:ro \
      -e NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-certificates.crt \
      strix-opencode-base:latest >/dev/null
    echo "demo: started container $name"
  fi
  ansible-playbook -i inventory/demo.yml tests/support/playbooks/hub-mirror.yml >/dev/null
  ansible-playbook -i inventory/demo.yml tests/support/playbooks/node-ca.yml >/dev/null
  echo "demo: local Hugging Face mirror running in $name (127.0.0.1:8090)"
  # No GPU here, and the box uses this machine's Docker engine: the amdgpu and docker roles are skipped.
  ansible-playbook -i inventory/demo.yml site.yml --skip-tags amdgpu,docker
  echo
  ansible-playbook -i inventory/demo.yml playbooks/health.yml | sed -n '/Show the health table/,/^$/p'
  echo "== doctor.yml: the box against what the collection made it (read-only) =="
  ansible-playbook -i inventory/demo.yml playbooks/doctor.yml | sed -n "/Show the box's rows/,/^\$/p"
  echo "== one answer from each tier =="
  for tier in orch:8001:smollm2-orch reviewer:8011:smollm2-reviewer utility:8012:smollm2-utility; do
    IFS=: read -r label port model <<<"$tier"
    answer=$(docker exec "$name" curl -sf "http://127.0.0.1:$port/v1/chat/completions" \
      -H 'Content-Type: application/json' \
      -d "{\"model\": \"$model\", \"max_tokens\": 24, \"messages\": [{\"role\": \"user\", \"content\": \"What is Ansible?\"}]}" \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"].strip())')
    printf '%-9s (port %s): %s\n' "$label" "$port" "$answer"
  done
  echo
  echo "== $name =="
  docker exec "$name" sh -c 'cat /proc/swaps; echo; grep -h swappiness /etc/sysctl.d/*.conf;
    echo; systemctl is-active earlyoom; grep EARLYOOM_ARGS /etc/default/earlyoom;
    echo; echo "OpenCode (/root/.config/opencode/opencode.jsonc):";
    grep -E "\"(model|small_model|baseURL)\"" /root/.config/opencode/opencode.jsonc'
  echo
  echo "== OpenCode, through the box's default agent, the orchestrator on vLLM (no --model; the plugin enabled) =="
  # The answer is OpenCode's standard output; its log (the plugin's own complaints, offline here) goes to a
  # file in the box, shown only when OpenCode fails.
  docker exec "$name" sh -c 'cd /tmp && timeout 300 opencode run "In one sentence: what is Ansible?" \
    2>/tmp/opencode-run.log || { tail -n 20 /tmp/opencode-run.log; exit 1; }'
  echo
  echo "demo: run 'make demo' again to see a converge with no changes; 'make demo-down' removes it."
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
