#!/usr/bin/env bash
# The real vLLM (a pinned release from PyPI) in its own virtualenv under .cache, for the contract tests: its
# command-line parser and model-config check run on this CPU-only machine. About 9 GB; installed once per
# checkout (pip's own cache makes a second checkout quicker). Prints the virtualenv's python.
set -euo pipefail
version=${VLLM_CONTRACT_VERSION:-0.33.0}
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.cache/vllm-$version"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import vllm, sys; sys.exit(vllm.__version__ != '$version')" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "vllm==$version" >&2
fi
echo "$venv/bin/python"
