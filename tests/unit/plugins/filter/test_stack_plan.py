"""Startup modes and the memory budget."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.strix.opencode.plugins.filter.stack_plan import memory_budget, stack_tiers


@pytest.mark.parametrize("mode,expected", [
    ("gpu", [("orch", "vllm"), ("coder", "vllm")]),
    ("cpu", [("reviewer", "llamacpp"), ("utility", "llamacpp")]),
    ("full", [("orch", "vllm"), ("coder", "vllm"), ("reviewer", "llamacpp"), ("utility", "llamacpp")]),
    ("hybrid-radv", [("coder", "vllm"), ("orch", "llamacpp")]),
    ("hybrid-rocm", [("coder", "vllm"), ("orch", "llamacpp")]),
])
def test_modes_in_start_order(mode, expected):
    assert list(stack_tiers(mode).items()) == expected


def test_overrides_add_and_remove_tiers_keeping_the_order():
    assert list(stack_tiers("gpu", {"coder": False, "utility": True}).items()) == [("orch", "vllm"), ("utility", "llamacpp")]
    assert list(stack_tiers("cpu", {"orch": True})) == ["orch", "reviewer", "utility"]


def test_engine_selects_one_engine():
    assert list(stack_tiers("full", {}, "llamacpp")) == ["reviewer", "utility"]


@pytest.mark.parametrize("mode,enable,message", [
    ("gpus", {}, "strix_mode must be one of gpu, cpu, full, hybrid-radv, hybrid-rocm, got 'gpus'"),
    ("gpu", {"review": True}, "strix_tier_enable names unknown tiers: review"),
    ("gpu", ["orch"], "strix_tier_enable must be a dictionary"),
])
def test_bad_mode_or_override_names_the_variable(mode, enable, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(")):
        stack_tiers(mode, enable)


def test_budget_verdicts():
    rows = [{"tier": "orch", "engine": "vllm", "mb": 45875, "what": "0.35 of RAM"},
            {"tier": "reviewer", "engine": "llamacpp", "mb": 50000, "what": "GGUF + KV"}]
    assert memory_budget(rows, 131072, 0)["verdict"] == "fits"
    assert memory_budget(rows, 65536, 65536)["verdict"] == "swap"
    over = memory_budget(rows, 65536, 0)
    assert over["verdict"] == "over" and over["total_mb"] == 95875
    assert over["table"][-1].startswith("total") and "more than RAM and swap" in over["table"][-1]
    assert len(over["table"]) == 4


def test_meminfo():
    from ansible_collections.strix.opencode.plugins.filter.stack_plan import meminfo_mb
    text = "MemTotal:       131072000 kB\nMemFree:  1 kB\nSwapTotal:      134217728 kB\n"
    assert meminfo_mb(text) == {"ram_mb": 128000, "swap_mb": 131072}
    with pytest.raises(AnsibleFilterError, match="no MemTotal"):
        meminfo_mb("nothing")


def test_rows_for_the_seed_figures():
    from ansible_collections.strix.opencode.plugins.filter.stack_plan import llamacpp_memory_rows, vllm_memory_rows
    gpu = vllm_memory_rows([{"model": "o", "gpu_util": 0.35}, {"model": "c", "gpu_util": "0.60"}],
                           ["orch", "coder"], {"ram_mb": 131072})
    assert [row["mb"] for row in gpu] == [45875, 78643]
    cpu = llamacpp_memory_rows([{"gguf": "r.gguf", "ctx": 32768, "kv_bytes_per_token": 327680}],
                               ["reviewer"], [42520395648])
    assert cpu[0]["mb"] == 40550 + 10240 and "10.0 GiB KV cache at 32768 tokens" in cpu[0]["what"]


@pytest.mark.parametrize("mode,models", [
    ("gpu", ["orch", "coder"]), ("cpu", ["reviewer", "utility"]), ("full", ["orch", "coder", "reviewer", "utility"]),
    ("hybrid-radv", ["coder", "orch_gguf"]), ("hybrid-rocm", ["coder", "orch_gguf"]),
])
def test_models_each_mode_downloads(mode, models):
    from ansible_collections.strix.opencode.plugins.filter.stack_plan import stack_models
    assert stack_models(stack_tiers(mode)) == models
