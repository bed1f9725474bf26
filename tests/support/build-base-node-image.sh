#!/usr/bin/env bash
# The base image with Node.js, npm and ripgrep (images/base-node), for the scenarios that run OpenCode without
# testing how the opencode role installs it (stack, site). Rebuilt only when its recipe or the base image changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${STRIX_BASE_IMAGE:-strix-opencode-base:latest}
image=strix-opencode-base-node:latest
label=org.strix-opencode.recipe
recipe=$( (cat "$0" "$here/images/base-node/Dockerfile"; docker image inspect "$base" --format '{{ .Id }}') \
  | sha256sum | cut -c1-16)
current=$(docker image inspect "$image" --format "{{ index .Config.Labels \"$label\" }}" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "build-base-node-image: $image is up to date (recipe $recipe)"
  exit 0
fi
docker build -q --build-arg BASE="$base" --label "$label=$recipe" -t "$image" "$here/images/base-node" >/dev/null 2>&1 \
  || docker build --build-arg BASE="$base" --label "$label=$recipe" -t "$image" "$here/images/base-node"
echo "build-base-node-image: $image built"
