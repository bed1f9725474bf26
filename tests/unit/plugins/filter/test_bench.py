"""The figures of bench.yml: cases, the results file, the comparison with the previous run, the tables."""
import copy

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.bench import (
    bench_cases, bench_compare, bench_document, bench_engines_table, bench_fleet_table, bench_list, bench_table)


def tier(name, engine="llamacpp", parallel=1, context=8192, path="/m/SmolLM2-135M-Instruct.Q4_1.gguf"):
    return {"tier": name, "engine": engine, "device": "cpu", "url": "http://127.0.0.1:8011", "served_name": name,
            "context": context, "parallel": parallel, "model": {"path": path, "repo_id": "o/n", "revision": "main",
                                                                "sha256": ""},
            "container": {"image": "img:1", "entrypoint": ["llama-server"], "command": ["-m", path]}}


PLAN = {"tiers": [tier("orch", "vllm", parallel=2, context=32768, path="/m/Qwen"), tier("reviewer")]}


def spread(median):
    return {"min": median * 0.9, "median": median, "max": median * 1.1}


def result(case, gen=50.0, pp=1000.0):
    summary = {"ttft_ms": spread(100.0), "pp_tps": spread(pp), "gen_tps": spread(gen), "agg_gen_tps": spread(gen * 1.5)}
    return {"item": case, "summary": summary, "runs": [], "batches": []}


def document(gen=50.0, pp=1000.0, started="2026-11-29T010000Z", box="strix-box"):
    cases = bench_cases(PLAN, [512])
    record = {"reviewer": {"image_id": "sha256:ab", "digest": "img@sha256:cd"}}
    return bench_document([result(c, gen, pp) for c in cases], PLAN, record, box, started,
                          {"gen_tokens": 128, "prompt_tokens": [512]})


def test_list_from_text_or_list():
    assert bench_list("vllm, llamacpp") == ["vllm", "llamacpp"]
    assert bench_list(["a"]) == ["a"] and bench_list(512) == [512] and bench_list("") == [] and bench_list(None) == []


def test_cases_at_one_request_and_the_tiers_parallel_sequences():
    cases = bench_cases(PLAN, [512, 16384])
    assert [(c["tier"], c["prompt_tokens"], c["concurrency"]) for c in cases] == [
        ("orch", 512, 1), ("orch", 512, 2), ("orch", 16384, 1), ("orch", 16384, 2), ("reviewer", 512, 1)]
    assert [c["tier"] for c in bench_cases(PLAN, [512], ["reviewer"], [3])] == ["reviewer"]
    with pytest.raises(AnsibleFilterError, match="bench_tiers names coder, not run on this box"):
        bench_cases(PLAN, [512], ["coder"])


def test_the_document_holds_what_produced_the_figures():
    doc = document()
    reviewer = [t for t in doc["tiers"] if t["tier"] == "reviewer"][0]
    assert reviewer["quantisation"] == "Q4_1" and reviewer["digest"] == "img@sha256:cd"
    assert reviewer["command"] == ["llama-server", "-m", "/m/SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert [t["quantisation"] for t in doc["tiers"] if t["tier"] == "orch"] == ["as published (safetensors)"]
    assert doc["box"] == "strix-box" and doc["settings"]["gen_tokens"] == 128


def test_a_drop_beyond_the_threshold_is_a_regression_and_a_gain_is_not():
    before = document()
    slower = document(gen=40.0, started="2026-11-29T020000Z")  # 20 % slower generation
    comparison = bench_compare(slower, before, 0.10)
    assert comparison["compared"] and comparison["previous"] == "2026-11-29T010000Z"
    regressions = set((r["tier"], r["concurrency"], r["metric"]) for r in comparison["regressions"])
    assert ("reviewer", 1, "gen_tps") in regressions and ("orch", 2, "agg_gen_tps") in regressions
    assert not any(r["metric"] == "pp_tps" for r in comparison["regressions"])
    assert bench_compare(slower, before, 0.25)["regressions"] == []
    assert bench_compare(document(gen=60.0), before)["regressions"] == []
    lines = bench_table(slower, comparison)
    assert any("REGRESSION" in line and "gen_tps" in line and "-20.0 %" in line for line in lines)


def test_each_case_compares_with_the_newest_run_that_measured_it():
    oldest, middle = document(gen=50.0, started="2026-11-29T010000Z"), document(gen=45.0, started="2026-11-29T020000Z")
    middle["tiers"] = [t for t in middle["tiers"] if t["tier"] == "reviewer"]
    comparison = bench_compare(document(gen=40.0, started="2026-11-29T030000Z"), [middle, oldest])
    used = dict(((r["tier"], r["metric"], r["concurrency"]), (r["previous"], r["before"])) for r in comparison["rows"])
    assert used[("reviewer", "gen_tps", 1)] == ("2026-11-29T020000Z", 45.0)
    assert used[("orch", "gen_tps", 1)] == ("2026-11-29T010000Z", 50.0)
    assert comparison["previous"] == "2026-11-29T020000Z"


def test_only_the_same_tier_and_settings_compare():
    before = document()
    other = copy.deepcopy(before)
    other["settings"]["gen_tokens"] = 64
    assert not bench_compare(document(gen=10.0), other)["compared"]
    assert not bench_compare(document(), {})["compared"]
    assert "no earlier run" in bench_table(document(), bench_compare(document(), {}))[-1]


def test_engines_side_by_side_recommend_per_tier():
    llama = document(gen=90.0)
    for t in llama["tiers"]:
        t["engine"] = "llamacpp"
    vllm = document(gen=20.0)
    for t in vllm["tiers"]:
        t["engine"] = "vllm"
        for case in t["cases"]:
            if case["concurrency"] == 2:
                case["summary"]["agg_gen_tps"] = spread(400.0)
    lines = bench_engines_table([llama, vllm])
    orch = lines[lines.index("orch:"):lines.index("reviewer:")]
    assert "  one user: llamacpp (90.0 tokens/s)" in orch and "  2 at once: vllm (400.0 tokens/s in all)" in orch


def test_fleet_table_has_a_row_per_box():
    lines = bench_fleet_table([document(box="box-1"), document(gen=30.0, box="box-2")])
    assert lines[0].split()[:2] == ["box", "orch"] and len(lines) == 3
    assert lines[2].startswith("box-2") and "30.0 / 1000 @512" in lines[2]
