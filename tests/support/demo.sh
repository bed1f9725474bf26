#!/usr/bin/env bash
# `make demo`: converge playbooks/site.yml onto a throwaway systemd container standing in for a
# Strix box, then show what it did. `make demo-down` removes the container and its swap file.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$PWD/.cache/collections"

name=strix-demo
scratch=/var/tmp/strix-opencode-demo

down() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  bash tests/support/release-swap.sh "$scratch"
  echo "demo: $name removed"
}

up() {
  if ! docker container inspect "$name" >/dev/null 2>&1; then
    mkdir -p "$scratch"
    docker run -d --name "$name" --hostname "$name" \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
      --tmpfs /run --tmpfs /run/lock --cgroupns=host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$scratch:/srv/scratch" \
      strix-opencode-base:latest >/dev/null
    echo "demo: started container $name"
  fi
  # The demo container has no GPU and cannot run a nested Docker engine: those two roles are skipped.
  ansible-playbook -i inventory/demo.yml playbooks/site.yml --skip-tags amdgpu,docker
  echo
  echo "== $name =="
  docker exec "$name" sh -c 'cat /proc/swaps; echo; grep -h swappiness /etc/sysctl.d/*.conf;
    echo; systemctl is-active earlyoom; grep EARLYOOM_ARGS /etc/default/earlyoom;
    echo; echo "OpenCode (/root/.config/opencode/opencode.jsonc):";
    grep -E "\"(model|small_model|baseURL)\"" /root/.config/opencode/opencode.jsonc'
  echo
  echo "demo: run 'make demo' again to see a converge with no changes; 'make demo-down' removes it."
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
