"""Benchmark of the plan and stack roles on this machine's Docker engine (this machine is the box).

Prints:
  1. the time from a tier being ready (the vLLM stand-in logs the moment its model is loaded) to the role's
     run returning, over several runs (target: <= 1.5 s)
  2. the wall time of a no-change converge of `full` mode: two vLLM tiers (stand-in image) and two llama.cpp
     tiers (the real llama-server image serving the SmolLM2 GGUF) (target: < 15 s)

Needs `make collection images` and the SmolLM2 GGUF (tests/support/fetch-smollm2.py); run as root.
Usage: .venv/bin/python bench/stack.py [--runs 5]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STACK = "bench"
STANDIN_MODELS = ("Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct")


def rfc3339(text):
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return base + float("0." + (match.group(2) or "0"))


def playbook(work, variables, roles):
    (work / "vars.json").write_text(json.dumps(variables))
    (work / "play.yml").write_text("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                                   + "".join("    - strix.opencode.%s\n" % role for role in roles))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e", "@%s" % (work / "vars.json"),
           "-e", "ansible_python_interpreter=%s" % sys.executable, str(work / "play.yml")]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, check=False)
    end = time.time()
    if proc.returncode != 0:
        sys.exit("ansible-playbook failed:\n%s" % proc.stdout[-3000:])
    changed = re.search(r"changed=(\d+)", proc.stdout.split("PLAY RECAP")[-1])
    return start, end, int(changed.group(1))


def docker(*args):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=True).stdout


def remove_stack():
    ids = docker("ps", "-aq", "--filter", "label=org.strix-opencode.stack=%s" % STACK).split()
    if ids:
        docker("rm", "-f", *ids)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    gguf = subprocess.run([sys.executable, str(ROOT / "tests/support/fetch-smollm2.py")], capture_output=True,
                          text=True, check=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="strix-bench-stack-", dir="/var/tmp"))
    (work / "models").mkdir()
    shutil.copy(gguf, work / "models" / "smollm2.gguf")
    for name in STANDIN_MODELS:  # a config.json is all the vLLM stand-in reads
        (work / "models" / name).mkdir(parents=True)
        (work / "models" / name / "config.json").write_text('{"architectures": ["Qwen2ForCausalLM"]}')
    llama = {"threads": 1}
    base = {
        "strix_stack_name": STACK, "strix_network_mode": "host", "stack_image_pull": "never",
        "strix_images": {"vllm": "strix-opencode-vllm-standin:latest",
                         "llamacpp": "strix-opencode-llama-server:latest",
                         "llamacpp_rocm": "strix-opencode-llama-server:latest"},
        "strix_gpu_devices": {"vllm": [], "vulkan": [], "rocm": []}, "strix_gpu_groups": ["video"],
        "strix_hf_home": str(work / "hf"), "strix_vllm_cache_dir": str(work / "vllm"),
        "strix_triton_cache_dir": str(work / "triton"), "strix_os_reserve_mb": 0,
        "strix_tiers": {
            "orch": {"vllm": {"model": {"path": str(work / "models" / STANDIN_MODELS[0])}, "gpu_util": 0.3}},
            "coder": {"vllm": {"model": {"path": str(work / "models" / STANDIN_MODELS[1])}, "gpu_util": 0.5}},
            "reviewer": {"model": {"path": str(work / "models" / "smollm2.gguf")}, "context": 2048, "output": 512,
                         "llamacpp": llama},
            "utility": {"model": {"path": str(work / "models" / "smollm2.gguf")}, "context": 1024, "output": 512,
                        "llamacpp": llama},
        },
    }
    remove_stack()
    try:
        # 1. ready -> role returns: the orchestrator alone, recreated each run (the load time changes).
        gaps = []
        for run in range(args.runs):
            load = 3 + run * 0.1
            tiers = dict(base["strix_tiers"], orch=dict(base["strix_tiers"]["orch"],
                                                        env={"STANDIN_LOAD_SECONDS": load}))
            variables = dict(base, strix_mode="gpu", strix_tier_enable={"coder": False}, strix_tiers=tiers)
            _start, end, _changed = playbook(work, variables, ["plan", "stack"])
            log = subprocess.run(["docker", "logs", "-t", "%s-orch" % STACK], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, check=True).stdout
            ready = [line for line in log.splitlines() if "model loaded, ready" in line]
            if not ready:
                sys.exit("the stand-in never logged that it was ready:\n" + log)
            gaps.append(end - rfc3339(ready[0].split(" ", 1)[0]))
        print("1. tier ready -> role returned: median %.2f s, max %.2f s over %d runs (target <= 1.5 s)"
              % (statistics.median(gaps), max(gaps), len(gaps)))
        print("   runs: %s" % ", ".join("%.2f" % gap for gap in gaps))

        # 2. no-change converge of full mode.
        remove_stack()
        full = dict(base, strix_mode="full")
        _start, _end, changed = playbook(work, full, ["plan", "stack"])
        times = []
        for _run in range(args.runs):
            start, end, changed = playbook(work, full, ["plan", "stack"])
            if changed:
                sys.exit("a converged full stack reported %d changes" % changed)
            times.append(end - start)
        print("2. no-change converge of full mode (4 tiers): median %.1f s, min %.1f s, max %.1f s over %d runs,"
              " 0 changes (target < 15 s)" % (statistics.median(times), min(times), max(times), len(times)))
    finally:
        remove_stack()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
