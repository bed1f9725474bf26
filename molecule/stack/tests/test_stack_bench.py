"""bench.yml on the box: the real llama-server and the real vLLM (both serving SmolLM2), the results file and its
comparison with the previous run, an injected slowdown flagged (the stand-in, slow on purpose, failing with
bench_fail_on_regression), and a tier measured on both engines and put back on its own."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import docker
import pytest
import yaml

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
STACK = "molecule-stack"
# The slowed orchestrator: tests/support/vllm_standin.py at a rate far below the real vLLM's, and the tolerance
# the unit tests hold tier_bench to
STANDIN_GEN_TPS = 4.0
TOLERANCE = 0.10
SMALL = ["-e", "bench_prompt_tokens=64", "-e", "bench_gen_tokens=16", "-e", "bench_repetitions=3"]


def playbook(name, *args):
    """Run a playbook; its output and errors with the display's line wrapping undone (words joined by single
    spaces) as stdout."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           str(ROOT / name)] + list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, timeout=1200,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
    # ansible-core prints a failure's message on stderr, with its line breaks as \n
    text = proc.stdout + "\n" + proc.stderr
    proc.stdout = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\\n", " ").split())
    return proc


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-results")


def runs(results):
    return sorted((results / "strix-stack").glob("*.json"))


def tier(document, name):
    return [t for t in document["tiers"] if t["tier"] == name][0]


@pytest.fixture(scope="module")
def first(results):
    proc = playbook("playbooks/bench.yml", "-e", "bench_results_dir=%s" % results, *SMALL)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc, json.loads(runs(results)[-1].read_text())


def test_bench_measures_every_tier_and_writes_what_produced_the_figures(first):
    proc, document = first
    assert document["box"] == "strix-stack" and document["settings"]["gen_tokens"] == 16
    assert sorted(t["tier"] for t in document["tiers"]) == ["coder", "orch", "reviewer", "utility"]
    reviewer = tier(document, "reviewer")
    assert reviewer["engine"] == "llamacpp" and reviewer["quantisation"] == "Q4_1"
    assert reviewer["image"] == "strix-opencode-llama-server:latest" and reviewer["image_id"].startswith("sha256:")
    assert reviewer["command"][:2] == ["llama-server", "-m"] and reviewer["context"] == 2048
    case = reviewer["cases"][0]
    assert (case["prompt_tokens"], case["concurrency"]) == (64, 1) and len(case["runs"]) == 3
    # the real llama-server's own usage figures, and real rates
    assert all(r["prompt_tokens"] == 64 and r["completion_tokens"] == 16 for r in case["runs"])
    assert case["summary"]["gen_tps"]["median"] > 0 and case["summary"]["pp_tps"]["median"] > 0
    # each tier at one request and at its parallel sequences: the orchestrator has one, the coder two
    assert [(c["prompt_tokens"], c["concurrency"]) for c in tier(document, "orch")["cases"]] == [(64, 1)]
    assert [(c["prompt_tokens"], c["concurrency"]) for c in tier(document, "coder")["cases"]] == [(64, 1), (64, 2)]
    assert "no earlier run of these tiers and settings to compare with" in proc.stdout


def test_the_real_vllms_figures_are_its_own_token_counts(first):
    _proc, document = first
    for name in ("orch", "coder"):
        assert tier(document, name)["engine"] == "vllm"
        assert tier(document, name)["image"] == "strix-opencode-vllm-cpu:latest"
        assert tier(document, name)["command"][:3] == ["vllm", "serve", "/models/%s" % name]
    for case in tier(document, "orch")["cases"] + tier(document, "coder")["cases"]:
        assert len(case["runs"]) == 3 * case["concurrency"]
        # vLLM's own usage: the prompt the bench built, the tokens it asked for
        assert all(r["prompt_tokens"] == 64 and r["completion_tokens"] == 16 for r in case["runs"]), case["runs"]
        assert case["summary"]["gen_tps"]["median"] > STANDIN_GEN_TPS / (1 - TOLERANCE)


def test_a_second_run_compares_with_the_first(first, results):
    proc = playbook("playbooks/bench.yml", "-e", "bench_results_dir=%s" % results, "-e", "bench_tiers=reviewer",
                    *SMALL)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert len(runs(results)) == 2
    assert "against the previous run of each" in proc.stdout and "(run of %s)" % first[1]["started"] in proc.stdout
    assert "reviewer" in proc.stdout and "gen_tps" in proc.stdout


def test_an_injected_slowdown_is_a_regression_and_fails_when_asked(first, results):
    """The orchestrator replaced by the stand-in (a GPU placement), slow on purpose."""
    scenario = yaml.safe_load((ROOT / "molecule" / "stack" / "molecule.yml").read_text())
    tiers = scenario["provisioner"]["inventory"]["group_vars"]["all"]["strix_tiers"]
    slow = json.loads(json.dumps(tiers))
    slow["orch"].update(device="gpu", env=dict(slow["orch"].get("env") or {}, STANDIN_GEN_TPS=STANDIN_GEN_TPS))
    try:
        proc = playbook("molecule/stack/converge.yml", "-e", json.dumps({"strix_tiers": slow}))
        assert proc.returncode == 0, proc.stdout[-3000:]
        proc = playbook("playbooks/bench.yml", "-e", "bench_results_dir=%s" % results, "-e", "bench_tiers=orch",
                        "-e", "bench_fail_on_regression=true", *SMALL)
        assert proc.returncode != 0
        # against the first run, the newest that measured the orchestrator (the second measured the reviewer)
        assert "slower than its previous runs by more than 10 %" in proc.stdout
        assert "orch 64 x1 gen_tps" in proc.stdout and "REGRESSION" in proc.stdout
        assert "against the run of %s" % first[1]["started"] in proc.stdout
        measured = tier(json.loads(runs(results)[-1].read_text()), "orch")["cases"][0]["summary"]["gen_tps"]["median"]
        assert abs(measured - STANDIN_GEN_TPS) <= TOLERANCE * STANDIN_GEN_TPS
    finally:
        proc = playbook("molecule/stack/converge.yml")
        assert proc.returncode == 0, proc.stdout[-3000:]


def test_a_tier_runs_on_both_engines_and_goes_back_to_its_own(results):
    engine = docker.from_env()
    before = engine.containers.get("%s-orch" % STACK)
    proc = playbook("playbooks/bench.yml", "-e", "bench_results_dir=%s" % results, "-e", "bench_tiers=orch",
                    "-e", "bench_engines=vllm,llamacpp", "-e", "bench_concurrency=1", *SMALL)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "orch:" in proc.stdout and "one user:" in proc.stdout
    assert "llamacpp 64 x1 gen/request" in proc.stdout and "vllm 64 x1 gen/request" in proc.stdout
    after = engine.containers.get("%s-orch" % STACK)
    assert after.labels["org.strix-opencode.engine"] == "vllm"
    assert after.attrs["Config"]["Image"] == before.attrs["Config"]["Image"] == "strix-opencode-vllm-cpu:latest"
    assert after.id != before.id  # it did move to llama.cpp and back
