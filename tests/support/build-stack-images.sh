#!/usr/bin/env bash
# The images the inference-tier tests run, built locally (nothing can be pulled here):
#   strix-opencode-vllm-standin:latest   the vLLM stand-in, for the failure cases (tests/support/vllm_standin.py)
#   strix-opencode-llama-server:latest   a real llama.cpp server (build-llama-server-image.sh)
#   strix-opencode-vllm-cpu:latest       the real vLLM on the CPU (build-vllm-cpu-image.sh), and its test model
#                                        .cache/models/SmolLM2-135M-Instruct (make-smollm2-hf.sh)
# Each is rebuilt only when its recipe changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
base=${STRIX_BASE_IMAGE:-strix-opencode-base:latest}
image=strix-opencode-vllm-standin:latest
label=org.strix-opencode.recipe
recipe=$( (cat "$0" "$here/images/vllm-standin/Dockerfile" "$here/vllm_standin.py";
           docker image inspect "$base" --format '{{ .Id }}') | sha256sum | cut -c1-16)
current=$(docker image inspect "$image" --format "{{ index .Config.Labels \"$label\" }}" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "build-stack-images: $image is up to date (recipe $recipe)"
else
  context=$(mktemp -d /var/tmp/strix-vllm-standin.XXXXXX)
  trap 'rm -rf "$context"' EXIT
  cp "$here/images/vllm-standin/Dockerfile" "$here/vllm_standin.py" "$context/"
  docker build -q --build-arg BASE="$base" --label "$label=$recipe" -t "$image" "$context" >/dev/null 2>&1 \
    || docker build --build-arg BASE="$base" --label "$label=$recipe" -t "$image" "$context"
  echo "build-stack-images: $image built"
fi
# The real vLLM on the CPU (mostly downloads) builds while llama.cpp compiles; then its test model is made in it.
bash "$here/build-vllm-cpu-image.sh" &
vllm_cpu=$!
bash "$here/build-llama-server-image.sh"
wait "$vllm_cpu"
bash "$here/make-smollm2-hf.sh" >/dev/null

# Versions for the fleet scenario's upgrade.yml tests, each a layer over the images above (from the build cache
# when those did not change): a good new llama.cpp image (the same server, another image id), and two bad
# vLLM stand-ins, one that crashes while loading and one far slower than the real vLLM on the CPU (2 tokens/s).
variant() {
  local from=$1 tag=$2 lines=$3
  local recipe
  recipe=$(printf 'FROM %s\n%b\nLABEL org.strix-opencode.test-variant=%s\n' "$from" "$lines" "$tag")
  docker build -q -t "$tag" - <<<"$recipe" >/dev/null 2>&1 || docker build -t "$tag" - <<<"$recipe"
  echo "build-stack-images: $tag built"
}
variant strix-opencode-llama-server:latest strix-opencode-llama-server:v2 'LABEL org.strix-opencode.test-version=2'
variant "$image" strix-opencode-vllm-standin:crashes 'ENV STANDIN_NEVER_READY=1 STANDIN_EXIT_AFTER=1'
variant "$image" strix-opencode-vllm-standin:slow 'ENV STANDIN_GEN_TPS=2 STANDIN_PROMPT_TPS=500'
