#!/usr/bin/env bash
# The real vLLM in its own virtualenv under .cache, for the contract tests: its command-line parser and model-config
# check run on this CPU-only machine. The release is the one the default vLLM image carries, as its version tag
# names it (strix_images.vllm in roles/plan/defaults/main.yml, e.g. ...-vllm0.30.0), from PyPI. About 9 GB;
# installed once per checkout (pip's own cache makes a second checkout quicker). Prints the virtualenv's python.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
image_version=$(sed -n 's/^  vllm: .*[-:]vllm\([0-9][0-9.]*\)$/\1/p' "$root/roles/plan/defaults/main.yml")
if [ -z "$image_version" ]; then
    echo "vllm-venv: strix_images.vllm in roles/plan/defaults/main.yml names no vLLM version (a tag ending -vllmX.Y.Z)" >&2
    exit 1
fi
version=${VLLM_CONTRACT_VERSION:-$image_version}
venv="$root/.cache/vllm-$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import vllm, sys; sys.exit(vllm.__version__ != '$version')" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "vllm==$version" >&2
    # PyPI's torchvision, torchaudio and torchcodec do not match the CPU torch this machine's pip takes, and break
    # vLLM's imports; its parser and model-config check need none of them.
    "$venv/bin/pip" uninstall --quiet --yes torchvision torchaudio torchcodec >&2 || true
fi
echo "$venv/bin/python"
