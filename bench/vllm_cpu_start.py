"""Start-up of the real vLLM on the CPU, as the plan runs it: the time from `docker run` to /health answering 200,
with torch.compile (vLLM's default) on a first start with an empty compile cache, on a second start in a new
container that keeps the cache (the plan mounts strix_vllm_cache_dir at /root/.cache/vllm), and with
--enforce-eager (what the tests and the demo pass). The command line is the plan's own for an orchestrator placed
on the CPU serving the SmolLM2 test snapshot.

Needs `make images` (the vLLM CPU image and .cache/models/SmolLM2-135M-Instruct); run as root.
Usage: .venv/bin/python bench/vllm_cpu_start.py [--port 18001] [--timeout 900]
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "contract"), str(ROOT / ".cache" / "collections")]
from plans import FACTS, description  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.strix.opencode.plugins.filter.strix_plan import strix_plan  # noqa: E402

IMAGE = "strix-opencode-vllm-cpu:latest"
MODEL = ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct"
NAME = "strix-bench-vllm-cpu"
SMOLLM2 = {"source": "box", "format": "hf", "context_length": 8192, "kv_bytes_per_token": 23040,
           "weights_bytes": 269060552, "layers": 30, "kv_heads": 3, "key_length": 64, "value_length": 64}


def command(port, extra):
    tiers = {"orch": {"device": "cpu", "context": 4096, "output": 512, "parallel": 2, "served_name": "smollm2",
                      "model": {"path": "/srv/models/SmolLM2-135M-Instruct"}, "extra_args": extra}}
    plan = strix_plan(description(mode="gpu", tiers=tiers, tier_enable={"coder": False}),
                      dict(FACTS, model_facts={"/srv/models/SmolLM2-135M-Instruct": SMOLLM2}))
    assert not plan["problems"], plan["problems"]
    box = plan["tiers"][0]["container"]
    argv = box["entrypoint"] + box["command"]
    argv[argv.index("--port") + 1] = str(port)
    return argv, box["env"]


def start(port, cache, extra, timeout):
    argv, env = command(port, extra)
    subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)
    run = ["docker", "run", "-d", "--name", NAME, "--network", "host", "--ipc", "host",
           "-v", "%s:/root/.cache/vllm" % cache, "-v", "%s:/models/orch:ro" % MODEL]
    for key, value in env.items():
        run += ["-e", "%s=%s" % (key, value)]
    began = time.monotonic()
    subprocess.run(run + [IMAGE] + argv, capture_output=True, check=True)
    try:
        while time.monotonic() - began < timeout:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5) as answer:
                    if answer.status == 200:
                        return time.monotonic() - began
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            state = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", NAME], capture_output=True,
                                   text=True, check=False).stdout.strip()
            logs = subprocess.run(["docker", "logs", "--tail", "5", NAME], capture_output=True, text=True,
                                  check=False)
            if state != "true" or "Engine core initialization failed" in logs.stderr + logs.stdout:
                logs = subprocess.run(["docker", "logs", "--tail", "30", NAME], capture_output=True, text=True,
                                      check=False)
                sys.exit("vLLM exited:\n%s%s" % (logs.stdout, logs.stderr))
            time.sleep(1)
        sys.exit("vLLM was not healthy after %d s" % timeout)
    finally:
        subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=18001)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp(prefix="strix-bench-vllm-cache."))
    try:
        first = start(args.port, cache, [], args.timeout)
        second = start(args.port, cache, [], args.timeout)
        eager = start(args.port, Path(tempfile.mkdtemp(dir=cache)), ["--enforce-eager"], args.timeout)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print("vLLM %s on the CPU, SmolLM2-135M, the plan's command line; seconds from docker run to /health 200" % IMAGE)
    print("  torch.compile, empty cache (first start)      %7.1f s" % first)
    print("  torch.compile, cache kept (second container)  %7.1f s  (%.2f of the first)" % (second, second / first))
    print("  --enforce-eager                               %7.1f s" % eager)


if __name__ == "__main__":
    main()
