"""bench.yml over the fleet: each box's utility tier (the real llama-server) measured, a results file per box,
and one table with the boxes down the side."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
BOXES = ["strix-fleet-1", "strix-fleet-2", "strix-fleet-3"]


def test_the_fleet_is_measured_box_by_box_into_one_table(tmp_path):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           str(ROOT / "playbooks" / "bench.yml"), "-e", "bench_results_dir=%s" % tmp_path, "-e", "bench_tiers=utility",
           "-e", "bench_prompt_tokens=64", "-e", "bench_gen_tokens=8", "-e", "bench_repetitions=3",
           "-e", "bench_warmup=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, timeout=900,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    assert proc.returncode == 0, proc.stdout[-4000:]
    for name in BOXES:
        documents = list((tmp_path / name).glob("*.json"))
        assert len(documents) == 1
        utility = json.loads(documents[0].read_text())["tiers"][0]
        assert utility["tier"] == "utility" and utility["cases"][0]["summary"]["gen_tps"]["median"] > 0
    tasks = [task for play in json.loads(proc.stdout)["plays"] for task in play["tasks"]]
    # the bench role's fleet entry point: the json callback names a role's task "<role> : <name>"
    table = [t for t in tasks if t["task"]["name"].split(" : ", 1)[-1].startswith("Show every box's tiers")][0]
    lines = [result["msg"] for result in table["hosts"].values() if "msg" in result][0].splitlines()
    assert lines[0].split()[:3] == ["box", "utility", "gen/pp"]
    assert [line.split()[0] for line in lines[1:]] == BOXES
    assert all(line.split()[1] == "llamacpp" for line in lines[1:])


def test_the_fleet_is_measured_as_one_through_the_gateway_against_one_box(tmp_path):
    """bench.yml -e bench_target=gateway: every tier through the gateway at the boxes' slots together, and on one box
    alone; the scaling ratio per tier (kept beside the scenario's log: on two shared cores it says nothing of boxes)."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           str(ROOT / "playbooks" / "bench.yml"), "-e", "bench_target=gateway", "-e", "bench_results_dir=%s" % tmp_path,
           "-e", "bench_prompt_tokens=64", "-e", "bench_gen_tokens=8", "-e", "bench_repetitions=2",
           "-e", "bench_warmup=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, timeout=900,
                          env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    assert proc.returncode == 0, proc.stdout[-4000:]
    documents = list((tmp_path / "gateway-strix-fleet-mirror").glob("*.json"))
    assert len(documents) == 1
    rows = dict((row["tier"], row) for row in json.loads(documents[0].read_text())["scaling"])
    assert sorted(rows) == ["orch", "reviewer", "utility"]
    # box 2 runs no reviewer; one slot per box
    assert (rows["utility"]["boxes"], rows["utility"]["concurrency"]) == (3, 3)
    assert (rows["reviewer"]["boxes"], rows["reviewer"]["concurrency"]) == (2, 2)
    for row in rows.values():
        assert row["fleet_agg_gen_tps"] > 0 and row["box_agg_gen_tps"] > 0 and row["scaling"] > 0
    tasks = [task for play in json.loads(proc.stdout)["plays"] for task in play["tasks"]]
    table = [t for t in tasks if t["task"]["name"].split(" : ", 1)[-1].startswith("Show the fleet against one box")][0]
    lines = [result["msg"] for result in table["hosts"].values() if "msg" in result][0].splitlines()
    assert lines[0].split()[:2] == ["tier", "boxes"] and sorted(line.split()[0] for line in lines[1:]) == sorted(rows)
    logs = ROOT / ".cache" / "test-logs"
    if logs.is_dir():
        (logs / "fleet-gateway-bench.txt").write_text("\n".join(lines) + "\n")
