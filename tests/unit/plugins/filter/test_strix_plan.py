"""The plan of the stack for every preset: tiers, engines, command lines, OpenCode, the ledger; and every
problem named by its variable."""
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.opencode_targets import opencode_edits, opencode_targets
from ansible_collections.strix.opencode.plugins.filter.strix_plan import (
    meminfo_mb, strix_model_facts, strix_models, strix_plan, strix_plan_text)

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles/plan/defaults/main.yml").read_text())
GIB = 1024 ** 3
FACTS = {"ram_mb": 128 * 1024, "swap_mb": 128 * 1024, "gpu_mb": None}


def description(**over):
    d = dict(mode=DEFAULTS["strix_mode"], tier_enable={}, tiers={}, tier_defaults=DEFAULTS["strix_tier_defaults"],
             stack_name="strix", network_mode="host", bind_address="127.0.0.1", images=DEFAULTS["strix_images"],
             gpu_devices=DEFAULTS["strix_gpu_devices"], gpu_groups=DEFAULTS["strix_gpu_groups"],
             load_args=DEFAULTS["strix_llamacpp_load_args"], hf_home="/root/.cache/huggingface",
             vllm_cache_dir="/root/.cache/vllm", allow_kv_cache_dtype=False, os_reserve_mb=4096,
             memory_budget_enforce=True, models_dir="/srv/strix/models", hf_endpoint="https://huggingface.co",
             free_space_margin_mb=10240, cloud_planner=dict(DEFAULTS["strix_cloud_planner"]),
             plugin_agents=DEFAULTS["strix_plugin_agents"], orch="")
    d.update(over)
    return d


def plan(facts=None, **over):
    return strix_plan(description(**over), dict(FACTS, **(facts or {})))


def cmd(tier):
    return tier["container"]["entrypoint"] + tier["container"]["command"]


# Per preset: tiers in start order with their engine and device, and what OpenCode's primary agent is.
PRESETS = {
    "gpu": ([("orch", "vllm", "gpu"), ("coder", "vllm", "gpu")], "local_orch/orch"),
    "cpu": ([("reviewer", "llamacpp", "cpu"), ("utility", "llamacpp", "cpu")], "local_reviewer/reviewer"),
    "full": ([("orch", "vllm", "gpu"), ("coder", "vllm", "gpu"), ("reviewer", "llamacpp", "cpu"),
              ("utility", "llamacpp", "cpu")], "local_orch/orch"),
    "hybrid-radv": ([("orch", "llamacpp", "gpu"), ("coder", "vllm", "gpu")], "local_orch/orch"),
    "hybrid-rocm": ([("orch", "llamacpp", "gpu"), ("coder", "vllm", "gpu")], "local_orch/orch"),
    "gpu-llamacpp": ([("orch", "llamacpp", "gpu"), ("coder", "llamacpp", "gpu")], "local_orch/orch"),
}


@pytest.mark.parametrize("mode", sorted(PRESETS))
def test_every_preset_plans_its_tiers_and_points_opencode_at_them(mode):
    tiers, primary = PRESETS[mode]
    result = plan(mode=mode)
    assert result["problems"] == []
    assert [(t["tier"], t["engine"], t["device"]) for t in result["tiers"]] == tiers
    opencode = result["opencode"]
    names = [t for t, _e, _d in tiers]
    assert sorted(opencode["providers"]) == sorted("local_%s" % t for t in names)
    assert opencode["primary"] == primary and opencode["default_agent"] == "primary"
    assert sorted(opencode["agents"]) == sorted(["primary"] + [t for t in names if t != "orch"])
    for tier in result["tiers"]:
        model = opencode["providers"]["local_%s" % tier["tier"]]["models"][tier["tier"]]
        assert model["limit"] == {"context": tier["context"], "output": tier["output"]}
        assert model["id"] == tier["served_name"]
        assert opencode["providers"]["local_%s" % tier["tier"]]["options"]["baseURL"] == \
            "http://127.0.0.1:%d/v1" % tier["port"]
    assert [row["tier"] for row in result["ledger"]["rows"]] == names + ["host"]


def test_full_mode_command_lines():
    tiers = {t["tier"]: t for t in plan(mode="full")["tiers"]}
    assert cmd(tiers["orch"]) == [
        "vllm", "serve", "/models/orch", "--served-model-name", "Qwen/Qwen2.5-14B-Instruct", "--host", "127.0.0.1",
        "--port", "8001", "--dtype", "auto", "--gpu-memory-utilization", "0.35", "--max-model-len", "32768",
        "--kv-cache-dtype", "auto", "--max-num-seqs", "4", "--enable-prefix-caching", "--enable-auto-tool-choice",
        "--tool-call-parser", "hermes"]
    assert tiers["orch"]["container"]["volumes"][-1] == "/srv/strix/models/Qwen/Qwen2.5-14B-Instruct:/models/orch:ro"
    assert tiers["orch"]["container"]["devices"] == ["/dev/kfd", "/dev/dri"]
    assert tiers["orch"]["container"]["env"]["HF_HUB_OFFLINE"] == "1"
    assert cmd(tiers["reviewer"]) == [
        "llama-server", "-m", "/models/reviewer/Llama-3.3-70B-Instruct-Q4_K_M.gguf", "-c", "32768", "-np", "1",
        "-t", "16", "-ngl", "0", "-dev", "none", "--alias", "Llama-3.3-70B-Instruct-Q4_K_M", "--host", "127.0.0.1",
        "--port", "8011", "--load-mode", "none"]
    assert tiers["reviewer"]["container"]["devices"] == [] and tiers["reviewer"]["container"]["groups"] == []
    assert tiers["reviewer"]["container"]["image"] == DEFAULTS["strix_images"]["llamacpp"]


def test_llamacpp_on_the_gpu_takes_every_layer_and_its_backend_image():
    radv = {t["tier"]: t for t in plan(mode="hybrid-radv")["tiers"]}["orch"]
    rocm = {t["tier"]: t for t in plan(mode="hybrid-rocm")["tiers"]}["orch"]
    assert cmd(radv)[cmd(radv).index("-ngl") + 1] == "999" and "--flash-attn" in cmd(radv)
    assert "-dev" not in cmd(radv)
    assert radv["container"]["image"] == DEFAULTS["strix_images"]["llamacpp"]
    assert rocm["container"]["image"] == DEFAULTS["strix_images"]["llamacpp_rocm"]
    assert radv["container"]["devices"] == ["/dev/dri"] and rocm["container"]["devices"] == ["/dev/kfd", "/dev/dri"]
    assert radv["model"]["path"] == "/srv/strix/models/Qwen2.5-14B-Instruct-Q4_K_M.gguf"


def test_parallel_sequences_multiply_llamacpp_context_and_kv():
    tiers = {t["tier"]: t for t in plan(mode="cpu", tiers={"utility": {"parallel": 3}})["tiers"]}
    utility = cmd(tiers["utility"])
    assert utility[utility.index("-c") + 1] == str(8192 * 3) and utility[utility.index("-np") + 1] == "3"


def test_tier_enable_adds_and_drops_tiers():
    result = plan(mode="gpu", tier_enable={"coder": False, "utility": True})
    assert [(t["tier"], t["engine"]) for t in result["tiers"]] == [("orch", "vllm"), ("utility", "llamacpp")]


def test_any_tier_can_move_engine_and_device():
    result = plan(mode="cpu", tiers={"reviewer": {"device": "gpu", "backend": "rocm"}})
    reviewer = result["tiers"][0]
    assert (reviewer["tier"], reviewer["device"], reviewer["backend"]) == ("reviewer", "gpu", "rocm")
    assert cmd(reviewer)[cmd(reviewer).index("-ngl") + 1] == "999"


def test_ledger_counts_weights_kv_and_reserve_against_ram_swap_and_gpu():
    path = "/srv/strix/models/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
    result = plan(mode="full", facts={"gpu_mb": 96 * 1024, "models": [
        {"path": path, "exists": True, "size": 40 * GIB, "would_download": 0, "reason": ""}]})
    rows = {r["tier"]: r for r in result["ledger"]["rows"]}
    assert rows["reviewer"]["mb"] == 40 * 1024 + 32768 * 327680 // (1024 * 1024)
    assert rows["orch"]["mb"] == int(0.35 * 96 * 1024) and "GPU memory" in rows["orch"]["what"]
    assert rows["host"]["mb"] == 4096
    assert result["ledger"]["total_mb"] == sum(r["mb"] for r in rows.values())
    assert result["ledger"]["verdict"] == "swap"  # the default full mode runs into swap on 128 GiB
    assert any("against GPU memory 96.0 GiB" in line for line in result["ledger"]["table"])


def test_cpu_box_with_a_cloud_planner_starts_on_the_cloud_and_switches_back_to_the_reviewer():
    cloud = dict(DEFAULTS["strix_cloud_planner"], model="gpt-5")
    result = plan(mode="cpu", cloud_planner=cloud)["opencode"]
    assert result["primary"] == "cloud_planner/gpt-5" and result["default_choice"] == "cloud"
    assert result["switch"]["local"]["primary"] == "local_reviewer/reviewer"
    assert result["plugin_agents"]["hephaestus"] == {"model": "local_reviewer/reviewer", "maxTokens": 16384}
    assert "maxTokens" not in result["plugin_agents"]["sisyphus"]


def test_a_converge_keeps_the_files_choice_unless_it_names_a_tier_gone():
    cloud = dict(DEFAULTS["strix_cloud_planner"], model="gpt-5")
    layout = plan(mode="cpu", cloud_planner=cloud)["opencode"]
    assert opencode_edits(layout, '{"model": "local_reviewer/reviewer"}')["choice"] == "local"
    assert opencode_edits(layout, '// c\n{"model": "cloud_planner/gpt-5",}')["choice"] == "cloud"
    assert opencode_edits(layout, '{"model": "local_orch/orch"}')["choice"] == "cloud"  # the default
    assert opencode_edits(layout, '{"model": "cloud_planner/gpt-5"}', "vllm")["primary"] == "local_reviewer/reviewer"
    edits = opencode_edits(layout, None, "local")["config"]
    assert {"key_path": ["provider", "local_orch"], "state": "absent", "value": None} in edits
    assert {"key_path": ["model"], "value": "local_reviewer/reviewer", "state": "present"} in edits


def test_models_are_listed_once_for_the_tiers_that_share_them():
    same = {"repo_id": "o/n-GGUF", "filename": "n.gguf"}
    models = strix_models(description(mode="cpu", tiers={"reviewer": {"model": same}, "utility": {"model": same}}))
    assert [(m["path"], m["tiers"]) for m in models] == [("/srv/strix/models/n.gguf", ["reviewer", "utility"])]


def test_the_checks_sizes_and_reasons_reach_the_plan_and_its_text():
    path = "/srv/strix/models/qwen2.5-3b-instruct-q4_k_m.gguf"
    facts = strix_model_facts(
        [{"item": {"path": path}, "stat": {"exists": False}}],
        [{"item": {"path": path}, "size": 2 * GIB, "would_download": 2 * GIB, "reason": "not on the box"}])
    result = plan(mode="cpu", facts={"models": facts, "free_bytes": 500 * GIB})
    assert result["download_bytes"] == 2 * GIB and result["downloads"][1]["reason"] == "not on the box"
    text = "\n".join(strix_plan_text(result))
    assert "download 2.00 GiB: not on the box" in text and "command llama-server" in text


@pytest.mark.parametrize("over,facts,message", [
    ({"mode": "turbo"}, {}, "strix_mode must be one of gpu, cpu, full, hybrid-radv, hybrid-rocm, gpu-llamacpp"),
    ({"tier_enable": {"gpu": True}}, {}, "strix_tier_enable names an unknown tier 'gpu'"),
    ({"tiers": {"coder": {"vllm": {"gpu_util": 0.7}}}}, {},
     "strix_tiers.orch.gpu_util + strix_tiers.coder.gpu_util = 1.05, more than 1.0"),
    ({"tiers": {"coder": {"vllm": {"kv_cache_dtype": "fp8"}}}}, {}, "strix_tiers.coder.kv_cache_dtype must be auto"),
    ({"tiers": {"orch": {"port": 70000}}}, {}, "strix_tiers.orch.port must be a port number"),
    ({"tiers": {"orch": {"contxt": 1}}}, {}, "strix_tiers.orch: unknown setting 'contxt'"),
    ({"tiers": {"orch": {"output": 40000}}}, {}, "strix_tiers.orch.output (40000) must be less than its context"),
    ({"tiers": {"orch": {"device": "cpu"}}}, {}, "strix_tiers.orch: vLLM runs on the GPU only here"),
    ({"tiers": {"orch": {"model": {"repo_id": "o/n-GGUF", "filename": "n.gguf"}}}}, {},
     "strix_tiers.orch.model: vLLM serves a whole repository"),
    ({"mode": "cpu", "tiers": {"utility": {"model": {"repo_id": "../etc"}}}}, {},
     "strix_tiers.utility.model.repo_id must be owner/name"),
    ({"mode": "cpu", "tiers": {"utility": {"port": 8011}}}, {}, "strix_tiers: reviewer and utility all listen on port 8011"),
    ({"mode": "cpu", "tiers": {"utility": {"model": {"path": "/no/x.gguf"}}}},
     {"models": [{"path": "/no/x.gguf", "exists": False}]}, "strix_tiers.utility.model.path: /no/x.gguf is not on the box"),
    ({"bind_address": "localhost"}, {}, "strix_bind_address must be an IP address"),
    ({"images": dict(DEFAULTS["strix_images"], llamacpp_rocm="docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2")}, {},
     "strix_images.llamacpp_rocm: the tag rocm-7.2 of docker.io/kyuz0/amd-strix-halo-toolboxes is no longer maintained "
     "upstream (frozen, or removed); use docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.14"),
    ({"images": dict(DEFAULTS["strix_images"], llamacpp="kyuz0/amd-strix-halo-toolboxes:rocm-6.4.4-rocwmma")}, {},
     "use kyuz0/amd-strix-halo-toolboxes:rocm-6.4.4"),
    ({"stack_name": "a b"}, {}, "strix_stack_name must be letters"),
    ({"orch": "sideways"}, {}, "orch must be cloud or local (vllm), got 'sideways'"),
    ({"orch": "cloud"}, {}, "orch=cloud needs strix_cloud_planner.model"),
    ({"mode": "cpu", "tiers": {"reviewer": {"llamacpp": {"kv_bytes_per_token": 10 ** 9}}}}, {},
     "more than RAM and swap"),
    ({"mode": "gpu-llamacpp"}, {"gpu_mb": 1024}, "the GPU tiers need"),
    ({"mode": "cpu"}, {"free_bytes": 1, "models": [
        {"path": "/srv/strix/models/qwen2.5-3b-instruct-q4_k_m.gguf",
         "exists": False, "would_download": GIB, "reason": "not on the box"}]},
     "the models do not fit in /srv/strix/models"),
])
def test_every_problem_names_its_variable(over, facts, message):
    assert any(message in p for p in plan(facts=facts, **over)["problems"]), plan(facts=facts, **over)["problems"]


def test_current_and_pinned_images_are_not_stale():
    assert plan()["problems"] == []
    pinned = "registry:5000/kyuz0/amd-strix-halo-toolboxes@sha256:" + "ab" * 32
    assert plan(images=dict(DEFAULTS["strix_images"], llamacpp=pinned))["problems"] == []


def test_all_problems_come_in_one_plan():
    problems = plan(tiers={"orch": {"port": 0}, "coder": {"output": 0}}, bind_address="x")["problems"]
    assert len(problems) >= 3


def test_the_switch_needs_a_choice():
    assert "--tags switch_orch needs -e orch=local (or vllm) or -e orch=cloud" in plan(switching=True)["problems"]
    assert plan(switching=True, orch="local")["problems"] == []


def test_a_tier_with_one_problem_is_still_checked_for_the_others():
    # The coder's FP8 KV cache must not hide its missing model or its share of the GPU.
    facts = {"models": [{"path": "/no/such/model", "exists": False}]}
    problems = plan(facts=facts, tiers={"orch": {"vllm": {"gpu_util": 0.6}}, "coder": {
        "vllm": {"gpu_util": 0.5, "kv_cache_dtype": "fp8", "model": {"path": "/no/such/model"}}}})["problems"]
    assert any("strix_tiers.coder.kv_cache_dtype must be auto" in p for p in problems), problems
    assert any("strix_tiers.coder.model.path: /no/such/model is not on the box" in p for p in problems), problems
    assert any("strix_tiers.orch.gpu_util + strix_tiers.coder.gpu_util = 1.10" in p for p in problems), problems


def test_meminfo():
    assert meminfo_mb("MemTotal: 2048000 kB\nSwapTotal: 1024 kB\n") == {"ram_mb": 2000, "swap_mb": 1}
    with pytest.raises(AnsibleFilterError):
        meminfo_mb("nothing")


PASSWD = {"dev": ["x", "1000", "1000", "", "/home/dev", "/bin/bash"], "root": ["x", "0", "0", "", "/root", "/bin/sh"]}


def test_targets_are_a_pair_per_user_and_project():
    project = {"item": "/srv/app/", "stat": {"isdir": True, "path": "/srv/app/", "pw_name": "dev", "gid": 1000}}
    targets = opencode_targets(PASSWD, ["dev"], [project])
    assert targets == [
        {"config_dir": "/home/dev/.config/opencode", "config": "/home/dev/.config/opencode/opencode.jsonc",
         "plugin_dir": "/home/dev/.omo", "plugin": "/home/dev/.omo/omo.jsonc", "owner": "dev", "group": 1000},
        {"config_dir": "/srv/app", "config": "/srv/app/opencode.jsonc",
         "plugin_dir": "/srv/app/.omo", "plugin": "/srv/app/.omo/omo.jsonc", "owner": "dev", "group": 1000},
    ]


def test_unknown_user_and_missing_project_fail_by_name():
    with pytest.raises(AnsibleFilterError, match="opencode_users: no such user.s.: ghost"):
        opencode_targets(PASSWD, ["dev", "ghost"], [])
    with pytest.raises(AnsibleFilterError, match="opencode_project_dirs: /nope is not a directory"):
        opencode_targets(PASSWD, [], [{"item": "/nope", "stat": {"exists": False}}])
