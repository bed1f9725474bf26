"""Benchmark of playbooks/site.yml on boxes that are local systemd containers (as `make demo`'s box).

Prints:
  1. the wall time of site.yml on a converged box (no change)
  2. the wall time of converging 1, 4 and 8 fresh boxes in one run (target: 8 boxes in under 2x the time of 1),
     and where the CPU time went: the controller (ansible-playbook, its forks, the docker CLI), the boxes (the
     modules run inside them, the tier containers) and the machine as a whole. The boxes share this machine's
     cores with the controller, so a run cannot take less than its CPU time divided by the number of cores.

Each box runs the cpu mode (two llama.cpp tiers on the locally built llama-server image, serving the SmolLM2
GGUF from a directory all boxes share), a small swap file, earlyoom, swappiness and the OpenCode
configuration; amdgpu (no GPU) and docker (the boxes use this machine's engine) are skipped.
Needs `make collection images`; run as root.
Usage: .venv/bin/python bench/fleet.py [--sizes 1 4 8]
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK = Path("/var/tmp/strix-opencode-bench-fleet")
PREFIX = "strix-bench"


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check).stdout


def start_boxes(count):
    names = ["%s-%d" % (PREFIX, n) for n in range(1, count + 1)]
    for name in names:
        (WORK / name).mkdir(parents=True, exist_ok=True)
        sh("docker", "run", "-d", "--name", name, "--hostname", name, "--cap-add", "SYS_ADMIN",
           "--security-opt", "seccomp=unconfined", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--cgroupns=host",
           "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/var/run/docker.sock:/var/run/docker.sock",
           "-v", "%s:%s" % (WORK, WORK), "strix-opencode-base:latest")
    for name in names:  # systemd up
        for _attempt in range(100):
            state = sh("docker", "exec", name, "systemctl", "is-system-running", check=False).strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.2)
    return names


def remove_boxes():
    ids = sh("docker", "ps", "-aq", "--filter", "name=%s-" % PREFIX).split()
    listing = sh("docker", "ps", "-a", "--filter", "label=org.strix-opencode.stack",
                 "--format", '{{.ID}} {{.Label "org.strix-opencode.stack"}}')
    tiers = [line.split()[0] for line in listing.splitlines() if line.split()[1].startswith(PREFIX)]
    if ids + tiers:
        sh("docker", "rm", "-f", *sorted(set(ids + tiers)))
    if WORK.exists():
        sh("bash", str(ROOT / "tests/support/release-swap.sh"), str(WORK))


def inventory(names):
    hosts = {name: {"ansible_connection": "community.docker.docker"} for name in names}
    common = {
        "strix_mode": "cpu", "strix_stack_name": "{{ inventory_hostname }}",
        "strix_network_mode": "container:{{ inventory_hostname }}",
        "swap_file_path": "%s/{{ inventory_hostname }}/swap.img" % WORK, "swap_file_size_mb": 64,
        "strix_images": {"vllm": "strix-opencode-vllm-standin:latest",
                         "llamacpp": "strix-opencode-llama-server:latest",
                         "llamacpp_rocm": "strix-opencode-llama-server:latest"},
        "stack_image_pull": "never", "strix_os_reserve_mb": 0, "opencode_install_cli": False,
        "strix_tiers": dict((tier, {"model": {"path": str(WORK / "models" / "smollm2.gguf")}, "context": 1024,
                                    "output": 512, "llamacpp": {"threads": 1}})
                            for tier in ("reviewer", "utility")),
    }
    path = WORK / "inventory.json"
    path.write_text(json.dumps({"strix": {"hosts": hosts, "vars": common}}))
    return path


def busy_seconds():
    """CPU seconds this machine has spent busy since boot (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def container_seconds():
    """CPU seconds of the bench's containers (the boxes and their tier containers), from their cgroups."""
    total = 0.0
    for line in sh("docker", "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}").splitlines():
        cid, name = line.split()
        if not name.startswith(PREFIX):
            continue
        v1 = Path("/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage" % cid)
        v2 = Path("/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat" % cid)
        if v1.exists():
            total += int(v1.read_text()) / 1e9
        elif v2.exists():
            total += int(re.search(r"usage_usec (\d+)", v2.read_text()).group(1)) / 1e6
    return total


def site(inv, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_FORKS="10")
    start = time.time()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inv), str(ROOT / "playbooks/site.yml"),
                           "--skip-tags", "amdgpu,docker"] + list(extra),
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    seconds = time.time() - start
    if proc.returncode != 0:
        sys.exit("site.yml failed:\n" + proc.stdout[-4000:])
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", proc.stdout.split("PLAY RECAP")[-1]))
    return seconds, changed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    gguf = sh(sys.executable, str(ROOT / "tests/support/fetch-smollm2.py")).strip()
    remove_boxes()
    cores = os.cpu_count()
    try:
        results = {}
        for size in args.sizes:
            WORK.mkdir(parents=True, exist_ok=True)
            (WORK / "models").mkdir(exist_ok=True)
            shutil.copy(gguf, WORK / "models" / "smollm2.gguf")
            inv = inventory(start_boxes(size))
            boxes_before, busy_before = container_seconds(), busy_seconds()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            seconds, _changed = site(inv)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            controller = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            results[size] = (seconds, controller, container_seconds() - boxes_before, busy_seconds() - busy_before)
            if size == args.sizes[0]:
                noop, changed = site(inv)
                print("1. site.yml on a converged box, no change: %.1f s (%d changes)" % (noop, changed))
            remove_boxes()
        base = results[args.sizes[0]][0]
        print("2. converge fresh boxes in one run (target: 8 boxes < 2x the time of 1); CPU seconds used, on %d cores:"
              % cores)
        for size in args.sizes:
            seconds, controller, boxes, busy = results[size]
            print("   %d box%s %6.1f s (%.2fx)   CPU: controller %5.1f s, boxes %5.1f s (%.1f s per box), machine %5.1f s"
                  " -> at least %.1f s on %d cores" % (size, " " if size == 1 else "es", seconds, seconds / base,
                                                       controller, boxes, boxes / size, busy, busy / cores, cores))
    finally:
        remove_boxes()


if __name__ == "__main__":
    main()
