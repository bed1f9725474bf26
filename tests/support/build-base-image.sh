#!/usr/bin/env bash
# Build the local base image for the molecule scenarios: debootstrap a minimal bookworm, import
# it as an image, then apply images/base/Dockerfile. The image carries the hash of its recipe in a
# label and is rebuilt only when the recipe (this script or the Dockerfile) changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=${STRIX_BASE_IMAGE:-strix-opencode-base:latest}
recipe=$(cat "$0" "$here/images/base/Dockerfile" | sha256sum | cut -c1-16)
label=org.strix-opencode.recipe

current=$(docker image inspect "$image" --format "{{ index .Config.Labels \"$label\" }}" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "build-base-image: $image is up to date (recipe $recipe)"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "build-base-image: installing debootstrap from apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi

rootfs_image="strix-opencode-rootfs:$recipe"
if ! docker image inspect "$rootfs_image" >/dev/null 2>&1; then
  work=$(mktemp -d /var/tmp/strix-rootfs.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  echo "build-base-image: debootstrap bookworm into $work"
  debootstrap --variant=minbase bookworm "$work/root" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$work/root" -c . | docker import - "$rootfs_image" >/dev/null
fi

echo "build-base-image: building $image (recipe $recipe)"
docker build -q --build-arg ROOTFS="$rootfs_image" --label "$label=$recipe" \
  -t "$image" "$here/images/base" >/dev/null
echo "build-base-image: $image built"
