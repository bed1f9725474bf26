#!/usr/bin/env bash
# Build the llama.cpp server image the llamacpp tiers run in the tests: llama.cpp as vendored in
# the llama-cpp-python sdist from PyPI, compiled for the CPU (about 6 minutes on 2 cores). The
# image carries the hash of its recipe in a label and is rebuilt only when the recipe changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
image=${STRIX_LLAMA_SERVER_IMAGE:-strix-opencode-llama-server:latest}
base=${STRIX_BASE_IMAGE:-strix-opencode-base:latest}
base_id=$(docker image inspect "$base" --format '{{ .Id }}')
recipe=$( (cat "$0" "$here/images/llama-server/Dockerfile"; echo "$version $base_id") | sha256sum | cut -c1-16)
label=org.strix-opencode.recipe

current=$(docker image inspect "$image" --format "{{ index .Config.Labels \"$label\" }}" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "build-llama-server-image: $image is up to date (recipe $recipe)"
  exit 0
fi

sdist_dir="$root/.cache/sdist"
sdist="$sdist_dir/llama_cpp_python-$version.tar.gz"
if [ ! -s "$sdist" ]; then
  echo "build-llama-server-image: downloading the llama-cpp-python $version sdist from PyPI"
  mkdir -p "$sdist_dir"
  python3 -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
    -d "$sdist_dir" "llama-cpp-python==$version" 2>/dev/null \
    || "$root/.venv/bin/pip" download --quiet --no-deps --no-binary :all: \
      -d "$sdist_dir" "llama-cpp-python==$version"
fi

context=$(mktemp -d /var/tmp/strix-llama-server.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$here/images/llama-server/Dockerfile" "$context/"
cp "$sdist" "$context/llama_cpp_python.tar.gz"
echo "build-llama-server-image: building $image from llama-cpp-python $version (recipe $recipe; about 6 minutes on 2 cores)"
docker build -q --build-arg BASE="$base" --label "$label=$recipe" -t "$image" "$context" >/dev/null
echo "build-llama-server-image: $image built"
