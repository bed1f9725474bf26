"""Benchmark of a no-op converge: site.yml run again on a box that is already converged.

Prints, per run and as medians: the task results per box (ok + skipped + failed, from the play recap; ok
counts the changed ones too), the changes (must be 0), the wall time, the CPU seconds of the controller
(ansible-playbook, its forks and the docker CLI they call: everything this script's child processes use)
and the CPU seconds spent inside the box container (the modules running there).

The box is `make demo`'s (inventory/demo.yml, cpu mode). For full mode, give --extra-vars
bench/noop-full.yml: the same box with the two vLLM tiers added (the vLLM stand-in image, local model
directories that this script creates) and the reviewer's context at 2048. The first run converges what
the extra variables change and is not counted.

To measure another version of the collection (e.g. the one before the plan), check it out elsewhere,
run its `make demo`, and point --tree at it (its own .cache/collections is used).
Usage: .venv/bin/python bench/noop.py [--tree DIR] [--extra-vars FILE] [--runs 3]
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BOX = "strix-demo"
STANDIN_MODELS = ("Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct")
MODELS_DIR = Path("/var/tmp/strix-opencode-demo/models")


def box_seconds():
    """CPU seconds of the box container so far, from its cgroup (v1 or v2)."""
    cid = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", BOX], capture_output=True, text=True,
                         check=True).stdout.strip()
    v1 = Path("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % cid)
    v2 = Path("/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % cid)
    if v1.exists():
        return int(v1.read_text()) / 1e9
    if v2.exists():
        return int(re.search(r"usage_usec (\d+)", v2.read_text()).group(1)) / 1e6
    return float("nan")


def site(tree, extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tree / ".cache" / "collections"), PATH="%s:%s" % (
        BIN, os.environ["PATH"]))
    cmd = [str(BIN / "ansible-playbook"), "-i", "inventory/demo.yml", "site.yml", "--skip-tags", "amdgpu,docker"]
    if extra:
        cmd += ["-e", "@%s" % extra]
    if not (tree / "site.yml").exists():  # before the root site.yml
        cmd[3] = "playbooks/site.yml"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    box_before, start = box_seconds(), time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree, check=False)
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit("site.yml failed:\n" + proc.stdout[-4000:])
    recap = proc.stdout.split("PLAY RECAP")[-1]
    line = [row for row in recap.splitlines() if row.startswith(BOX)][0]
    counts = dict((key, int(value)) for key, value in re.findall(r"(\w+)=(\d+)", line))
    return {"results": counts["ok"] + counts["skipped"] + counts["failed"], "ok": counts["ok"],
            "skipped": counts["skipped"], "changed": counts["changed"], "wall": wall,
            "controller": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "box": box_seconds() - box_before}


def standin_models():
    """The local model directories the vLLM stand-in serves in full mode (a config.json is all it reads)."""
    for name in STANDIN_MODELS:
        path = MODELS_DIR / name
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.json").write_text('{"architectures": ["Qwen2ForCausalLM"]}\n')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=ROOT, help="the collection checkout to run (default: this one)")
    parser.add_argument("--extra-vars", type=Path, help="a variables file over inventory/demo.yml")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tree = args.tree.resolve()
    extra = args.extra_vars.resolve() if args.extra_vars else None
    if extra:
        standin_models()
    first = site(tree, extra)
    print("converge before the runs: %d task results, %d changes" % (first["results"], first["changed"]))
    runs = [site(tree, extra) for _run in range(args.runs)]
    for number, run in enumerate(runs, 1):
        figures = (number, run["results"], run["ok"], run["changed"], run["skipped"], run["wall"], run["controller"],
                   run["box"])
        print("run %d: %d task results (ok %d incl. changed %d, skipped %d), %.1f s wall, controller %.1f CPU-s,"
              " box %.1f CPU-s" % figures)
    if any(run["changed"] for run in runs):
        sys.exit("a no-op converge changed something")
    print("no-op converge of %s%s, median of %d: %d task results per box, %.1f s wall, %.1f CPU-s on the"
          " controller, %.1f CPU-s in the box" % (
              tree, " with %s" % extra.name if extra else "", len(runs),
              statistics.median(r["results"] for r in runs), statistics.median(r["wall"] for r in runs),
              statistics.median(r["controller"] for r in runs), statistics.median(r["box"] for r in runs)))


if __name__ == "__main__":
    main()
