#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install Debian's docker.io when there is
# no dockerd, and start dockerd in the background when none answers (the test machines have no
# systemd as PID 1). Idempotent: does nothing when `docker info` already works.
set -euo pipefail

log=/var/log/strix-opencode-dockerd.log

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! command -v docker >/dev/null 2>&1; then
  echo "ensure-docker: no docker client on PATH after installing docker.io" >&2
  exit 1
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd in the background (log: $log)"
  nohup dockerd >"$log" 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: engine ready ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done

echo "ensure-docker: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 40 "$log" >&2 || true
exit 1
