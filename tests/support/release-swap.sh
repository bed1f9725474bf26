#!/usr/bin/env bash
# Swap off every swap file under the given directories, then remove the directories.
# A swap file that a container activated shows in the host's /proc/swaps under the path it had
# inside the container (e.g. /swap.img), so it cannot be found by its host path there. swapoff
# matches the file itself, so each file under the directory is tried by its host path instead;
# files that are not active swap are left to rm.
set -uo pipefail
for dir in "$@"; do
  [ -d "$dir" ] || continue
  find "$dir" -type f -print0 | while IFS= read -r -d '' file; do
    if swapoff "$file" 2>/dev/null; then echo "release-swap: swapped off $file"; fi
  done
  rm -rf "$dir"
done
