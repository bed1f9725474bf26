"""The plan of the stack for every preset: tiers, engines, command lines, OpenCode, the ledger; and every
problem named by its variable."""
import json
from pathlib import Path

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.opencode_targets import (
    opencode_edits, opencode_remote, opencode_targets)
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
             plugin_agents=DEFAULTS["strix_plugin_agents"], orch="", triton_cache_dir=DEFAULTS["strix_triton_cache_dir"],
             vllm_env=DEFAULTS["strix_vllm_env"],
             vllm_activation_reserve_mb=DEFAULTS["strix_vllm_activation_reserve_mb"])
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


def test_opencode_waits_for_a_tier_as_long_as_its_context_takes_to_read_and_without_a_timeout_when_unknown():
    result = plan(mode="full", tiers={"reviewer": {"prompt_tps": 40}})
    options = dict((name, p["options"]) for name, p in result["opencode"]["providers"].items())
    # 32768 tokens, 1 sequence, read at 40 tokens a second: 819 s, twice that and a minute
    assert options["local_reviewer"]["headerTimeout"] == options["local_reviewer"]["chunkTimeout"] == 1698400
    # the orchestrator's rate is unknown: no timeout (OpenCode's own is 5 minutes); never one for the whole answer
    assert options["local_orch"]["headerTimeout"] is False and options["local_orch"]["chunkTimeout"] is False
    assert all(o["timeout"] is False for name, o in options.items() if name.startswith("local_"))
    edits = [(e["key_path"], e["value"]) for e in result["opencode"]["config_edits"]]
    assert (["provider", "local_reviewer", "options", "headerTimeout"], 1698400) in edits
    assert (["provider", "local_orch", "options", "chunkTimeout"], False) in edits


@pytest.mark.parametrize("phone_home", [False, True])
def test_nothing_leaves_the_box_unless_asked(phone_home):
    result = plan(phone_home=phone_home)
    opencode = result["opencode"]
    assert opencode["privacy"] == {"share": "manual" if phone_home else "disabled", "autoupdate": phone_home}
    assert opencode["plugin_privacy"]["telemetry"] is phone_home and opencode["plugin_privacy"]["auto_update"] is phone_home
    assert opencode["plugin_privacy"]["disabled_mcps"] == ([] if phone_home else ["websearch", "context7", "grep_app"])
    assert set(opencode["plugin_privacy"]["codegraph"].values()) == {phone_home}
    edits = [(e["key_path"], e["value"]) for e in opencode["config_edits"] + opencode["plugin_edits"]]
    assert (["share"], opencode["privacy"]["share"]) in edits and (["[opencode]", "telemetry"], phone_home) in edits
    for tier in result["tiers"]:
        env = tier["container"]["env"]
        if tier["engine"] == "vllm":
            assert ("VLLM_NO_USAGE_STATS" in env) is not phone_home and ("HF_HUB_DISABLE_TELEMETRY" in env) is not phone_home


def test_full_mode_command_lines():
    tiers = {t["tier"]: t for t in plan(mode="full")["tiers"]}
    assert cmd(tiers["orch"]) == [
        "vllm", "serve", "/models/orch", "--served-model-name", "Qwen/Qwen2.5-14B-Instruct", "--host", "127.0.0.1",
        "--port", "8001", "--dtype", "auto", "--gpu-memory-utilization", "0.35", "--max-model-len", "32768",
        "--kv-cache-dtype", "auto", "--max-num-seqs", "2", "--enable-prefix-caching", "--enable-auto-tool-choice",
        "--tool-call-parser", "hermes", "--attention-backend", "TRITON_ATTN"]
    assert tiers["orch"]["container"]["volumes"][-1] == "/srv/strix/models/Qwen/Qwen2.5-14B-Instruct:/models/orch:ro"
    assert "/root/.cache/strix-triton:/opt/triton_cache" in tiers["orch"]["container"]["volumes"]
    assert tiers["orch"]["container"]["devices"] == ["/dev/kfd", "/dev/dri"]
    env = tiers["orch"]["container"]["env"]
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRITON_CACHE_DIR"] == "/opt/triton_cache"
    assert env["TORCH_ROCM_AOTRITON_ENABLE_EXPERIMENTAL"] == "1" and env["VLLM_ROCM_USE_AITER"] == "0"
    assert cmd(tiers["reviewer"]) == [
        "llama-server", "-m", "/models/reviewer/Llama-3.3-70B-Instruct-Q4_K_M.gguf", "-c", "32768", "-np", "1",
        "-t", "16", "-ngl", "0", "-dev", "none", "--alias", "Llama-3.3-70B-Instruct-Q4_K_M", "--host", "127.0.0.1",
        "--port", "8011", "--cache-ram", "1024", "--metrics", "--load-mode", "none"]
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


def test_llamacpps_prompt_cache_is_set_and_counted_and_can_be_turned_off():
    tiers = {t["tier"]: t for t in plan(mode="cpu", tiers={"utility": {"llamacpp": {"cache_ram_mb": 0}}})["tiers"]}
    assert cmd(tiers["utility"])[cmd(tiers["utility"]).index("--cache-ram") + 1] == "0"
    assert cmd(tiers["reviewer"])[cmd(tiers["reviewer"]).index("--cache-ram") + 1] == "1024"


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
    # the reviewer's KV from Llama-3.3-70B's own figures: 80 layers x 8 KV heads x (128 + 128) x 2 bytes; and the
    # prompt cache llama-server keeps in RAM (--cache-ram)
    assert rows["reviewer"]["mb"] == 40 * 1024 + 32768 * 327680 // (1024 * 1024) + 1024
    assert "+ 1.0 GiB prompt cache" in rows["reviewer"]["what"]
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
        [{"path": path}], {path: {"exists": False, "isreg": False, "size": None}},
        [{"item": {"path": path}, "size": 2 * GIB, "would_download": 2 * GIB, "reason": "not on the box"}])
    result = plan(mode="cpu", facts={"models": facts, "free_bytes": 500 * GIB})
    assert result["download_bytes"] == 2 * GIB and result["downloads"][1]["reason"] == "not on the box"
    text = "\n".join(strix_plan_text(result))
    assert "download 2.00 GiB: not on the box" in text and "command llama-server" in text


@pytest.mark.parametrize("over,facts,message", [
    ({"mode": "turbo"}, {}, "strix_mode must be one of gpu, cpu, full, hybrid-radv, hybrid-rocm, gpu-llamacpp"),
    ({"tier_enable": {"gpu": True}}, {}, "strix_tier_enable names an unknown tier 'gpu'"),
    ({"tiers": {"coder": {"vllm": {"gpu_util": 0.7}}}}, {},
     "strix_tiers.orch.gpu_util + strix_tiers.coder.gpu_util = 1.05, more than 0.90"),
    ({"tiers": {"coder": {"vllm": {"kv_cache_dtype": "fp8"}}}}, {}, "strix_tiers.coder.kv_cache_dtype must be auto"),
    ({"tiers": {"orch": {"port": 70000}}}, {}, "strix_tiers.orch.port must be a port number"),
    ({"tiers": {"orch": {"contxt": 1}}}, {}, "strix_tiers.orch: unknown setting 'contxt'"),
    ({"hf_home": "cache/hf"}, {}, "strix_hf_home must be an absolute path"),
    ({"tiers": {"orch": {"vllm": {"gpu_util": "lots"}}}}, {}, "strix_tiers.orch.gpu_util must be a share"),
    ({"tiers": {"coder": {"vllm": {"kv_cache_dtype": "fp8"}}}}, {}, "kv_cache_dtype must be auto on gfx1151"),
    ({"mode": "cpu", "tiers": {"utility": {"context": 0}}}, {}, "strix_tiers.utility.context must be a whole number"),
    ({"models_mirror": "mirror.lan"}, {}, "strix_models_mirror must be an http:// or https:// URL"),
    ({"tiers": {"orch": {"output": 40000}}}, {}, "strix_tiers.orch.output (40000) must be less than its context"),
    ({"tiers": {"orch": {"device": "cpu"}}, "images": {"vllm": "v", "llamacpp": "l", "llamacpp_rocm": "r"}}, {},
     "strix_images.vllm_cpu is not set: tier orch (vllm on the CPU) runs it"),
    ({"tiers": {"orch": {"model": {"repo_id": "o/n-GGUF", "filename": "n.gguf"}}}}, {},
     "strix_tiers.orch.model: vLLM serves a whole repository"),
    ({"mode": "cpu", "tiers": {"utility": {"model": {"repo_id": "../etc"}}}}, {},
     "strix_tiers.utility.model.repo_id must be owner/name"),
    ({"mode": "cpu", "tiers": {"utility": {"port": 8011}}}, {}, "strix_tiers: reviewer and utility all listen on port 8011"),
    ({"mode": "cpu", "tiers": {"utility": {"model": {"path": "/no/x.gguf"}}}},
     {"models": [{"path": "/no/x.gguf", "exists": False}]}, "strix_tiers.utility.model.path: /no/x.gguf is not on the box"),
    ({"bind_address": "localhost"}, {}, "strix_bind_address must be an IP address"),
    ({"tiers": {"coder": {"prompt_tps": "fast"}}}, {}, "strix_tiers.coder.prompt_tps must be a whole number above 0"),
    ({"mode": "cpu", "tiers": {"utility": {"llamacpp": {"cache_ram_mb": -1}}}}, {},
     "strix_tiers.utility.cache_ram_mb must be a whole number of MiB, 0 or more"),
    ({"images": dict(DEFAULTS["strix_images"], llamacpp_rocm="docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2")}, {},
     "strix_images.llamacpp_rocm: the tag rocm-7.2 of docker.io/kyuz0/amd-strix-halo-toolboxes is no longer maintained "
     "upstream (frozen, or removed); use docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-10.0"),
    ({"images": dict(DEFAULTS["strix_images"], vllm="docker.io/kyuz0/vllm-therock-gfx1151:stable")}, {},
     "use docker.io/kyuz0/vllm-therock-gfx1151:rocm10.0.0-torch2.11.0-vllm0.30.0"),
    ({"images": dict(DEFAULTS["strix_images"], llamacpp_rocm="docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.14")}, {},
     "use docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-10.0"),
    ({"images": dict(DEFAULTS["strix_images"], llamacpp="kyuz0/amd-strix-halo-toolboxes:rocm-6.4.4-rocwmma")}, {},
     "use kyuz0/amd-strix-halo-toolboxes:rocm-10.0"),
    ({"stack_name": "a b"}, {}, "strix_stack_name must be letters"),
    ({"orch": "sideways"}, {}, "orch must be cloud or local (vllm), got 'sideways'"),
    ({"orch": "cloud"}, {}, "orch=cloud needs strix_cloud_planner.model"),
    ({"mode": "cpu", "tiers": {"reviewer": {"context": 131072, "parallel": 8}}}, {}, "more than RAM and swap"),
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
         "plugin_dir": "/home/dev/.omo", "plugin": "/home/dev/.omo/omo.jsonc", "owner": "dev", "group": 1000,
         "key_file": "/home/dev/.config/opencode/strix-api-key"},
        {"config_dir": "/srv/app", "config": "/srv/app/opencode.jsonc",
         "plugin_dir": "/srv/app/.omo", "plugin": "/srv/app/.omo/omo.jsonc", "owner": "dev", "group": 1000,
         "key_file": "/home/dev/.config/opencode/strix-api-key"},
    ]


def test_unknown_user_and_missing_project_fail_by_name():
    with pytest.raises(AnsibleFilterError, match="opencode_users: no such user.s.: ghost"):
        opencode_targets(PASSWD, ["dev", "ghost"], [])
    with pytest.raises(AnsibleFilterError, match="opencode_project_dirs: /nope is not a directory"):
        opencode_targets(PASSWD, [], [{"item": "/nope", "stat": {"exists": False}}])


# ---- the models' own figures: context, rope scaling, KV cache, GPU shares -----------------------------------
# The GPU memory of a box with the amdgpu role's defaults (124 GiB GTT) and a 512 MiB carve-out.
STRIX_GPU_MB = 124 * 1024 + 512
SMOL = "/srv/strix/models/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOL_FACTS = {"format": "gguf", "architecture": "llama", "context_length": 8192, "layers": 30, "heads": 9,
              "kv_heads": 3, "key_length": 64, "value_length": 64, "weights_bytes": 98362432,
              "kv_bytes_per_token": 23040}


@pytest.mark.parametrize("mode", sorted(PRESETS))
def test_every_preset_fits_a_strix_halo_box_with_the_default_models(mode):
    result = plan(mode=mode, facts={"gpu_mb": STRIX_GPU_MB, "ram_mb": 125 * 1024})
    assert result["problems"] == [] and result["unchecked"] == []
    for tier in result["tiers"]:
        assert tier["context"] <= tier["facts"]["trained_context"] and tier["facts"]["source"] == "catalog"


def test_a_context_above_the_trained_one_is_refused_naming_tier_figure_and_limit():
    problems = plan(tiers={"orch": {"context": 65536}})["problems"]
    assert problems == ["strix_tiers.orch.context 65536 is above the 32768 tokens Qwen/Qwen2.5-14B-Instruct was trained "
                        "for (its config.json's max_position_embeddings); lower it to 32768, or set "
                        "strix_tiers.orch.rope_scaling: yarn to stretch the model with YaRN"]
    problems = plan(mode="hybrid-radv", tiers={"orch": {"context": 65536}})["problems"]
    assert "32768 tokens bartowski/Qwen2.5-14B-Instruct-GGUF was trained for (its GGUF metadata's context_length)" \
        in problems[0]


def test_yarn_stretches_the_context_with_each_engines_own_flags_and_opencode_gets_the_same_figure():
    vllm = {t["tier"]: t for t in plan(tiers={"orch": {"context": 65536, "rope_scaling": "yarn"}},
                                       facts={"gpu_mb": STRIX_GPU_MB})["tiers"]}["orch"]
    line = cmd(vllm)
    assert line[line.index("--max-model-len") + 1] == "65536"
    assert json.loads(line[line.index("--hf-overrides") + 1]) == {
        "rope_scaling": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32768},
        "max_position_embeddings": 65536}
    result = plan(mode="hybrid-rocm", tiers={"orch": {"context": 65536, "rope_scaling": "yarn"}})
    llama = cmd(result["tiers"][0])
    assert line_after(llama, "--rope-scaling") == "yarn" and line_after(llama, "--rope-scale") == "2"
    assert line_after(llama, "--yarn-orig-ctx") == "32768" and line_after(llama, "-c") == "65536"
    assert result["opencode"]["providers"]["local_orch"]["models"]["orch"]["limit"]["context"] == 65536
    # within the trained context, yarn adds nothing
    assert "--rope-scaling" not in cmd(plan(mode="cpu", tiers={"utility": {"rope_scaling": "yarn"}})["tiers"][1])


def line_after(line, flag):
    return line[line.index(flag) + 1]


def test_the_models_own_header_on_the_box_wins_over_the_catalog_and_over_a_setting():
    over = {"reviewer": {"model": {"path": SMOL}, "context": 16384, "output": 1024}}
    problems = plan(mode="cpu", tiers=over, facts={"model_facts": {SMOL: SMOL_FACTS}})["problems"]
    assert "strix_tiers.reviewer.context 16384 is above the 8192 tokens %s was trained for" % SMOL in problems[0]
    # llama.cpp's own override of the trained context counts
    over["reviewer"]["extra_args"] = ["--override-kv", "llama.context_length=int:16384"]
    result = plan(mode="cpu", tiers=over, facts={"model_facts": {SMOL: SMOL_FACTS}})
    reviewer = result["tiers"][0]
    assert result["problems"] == [] and reviewer["facts"]["trained_context"] == 16384
    assert reviewer["facts"]["kv_bytes_per_token"] == 23040 and reviewer["facts"]["source"] == "box"
    assert result["ledger"]["rows"][0]["mb"] == 98362432 // 2 ** 20 + 16384 * 23040 // 2 ** 20 + 1024
    wrong = {"reviewer": {"model": {"path": SMOL}, "context": 2048, "output": 512, "llamacpp": {"kv_bytes_per_token": 40000}}}
    problems = plan(mode="cpu", tiers=wrong, facts={"model_facts": {SMOL: SMOL_FACTS}})["problems"]
    assert problems == ["strix_tiers.reviewer.kv_bytes_per_token 40000 differs from the 23040 bytes per token that %s's "
                        "own figures give (30 layers x 3 KV heads x 64+64 x 2 bytes); remove the setting" % SMOL]


def test_a_model_nobody_knows_yet_is_planned_again_once_it_is_downloaded():
    over = {"utility": {"model": {"repo_id": "someone/new-GGUF", "filename": "new.gguf"}}}
    result = plan(mode="cpu", tiers=over)
    assert result["problems"] == [] and result["unchecked"] == ["utility"]
    assert "unknown weights + unknown KV" in result["ledger"]["table"][2]
    over["utility"]["kv_bytes_per_token"] = 1000
    assert plan(mode="cpu", tiers=over)["tiers"][1]["facts"]["kv_source"] == "setting"
    # an unreadable file on the box falls back to the catalog
    path = "/srv/strix/models/qwen2.5-3b-instruct-q4_k_m.gguf"
    utility = plan(mode="cpu", facts={"model_facts": {path: {"error": "not GGUF"}}})["tiers"][1]
    assert utility["facts"]["source"] == "catalog" and utility["facts"]["unreadable"] == "not GGUF"


def test_a_vllm_share_that_cannot_hold_weights_and_kv_in_the_reported_gpu_memory_is_refused():
    # upstream saw HIP report about 62890 MiB with the old parameters: 0.35 of it cannot hold Qwen2.5-14B
    problems = plan(facts={"gpu_mb": 62890})["problems"]
    orch = [p for p in problems if p.startswith("strix_tiers.orch.gpu_util")]
    assert orch and orch[0].startswith(
        "strix_tiers.orch.gpu_util 0.35 of the 61.4 GiB of GPU memory the box reports is 21.5 GiB, less than the "
        "41.5 GiB its weights (27.5 GiB), KV cache (12.0 GiB for 32768 tokens x 2) and activations (2.0 GiB) need; "
        "give it at least 0.68")
    assert "Ledger: tier" in orch[0]
    assert any(p.startswith("strix_tiers.coder.gpu_util 0.55 of the 61.4 GiB") for p in problems)
    # more parallel sequences than the share holds
    problems = plan(tiers={"orch": {"parallel": 4}}, facts={"gpu_mb": STRIX_GPU_MB})["problems"]
    assert len(problems) == 1 and "KV cache (24.0 GiB for 32768 tokens x 4)" in problems[0]
    # without a GPU reported there is nothing to hold the share to
    assert plan(tiers={"orch": {"parallel": 4}})["problems"] == []
    assert "share not checked" in plan()["ledger"]["table"][1]


def test_the_vllm_shares_add_up_to_at_most_090():
    problems = plan(tiers={"orch": {"vllm": {"gpu_util": 0.36}}}, facts={"gpu_mb": STRIX_GPU_MB})["problems"]
    assert problems == ["strix_tiers.orch.gpu_util + strix_tiers.coder.gpu_util = 0.91, more than 0.90: the vLLM tiers "
                        "share one GPU's memory, and vLLM fails at start-up above that on Strix Halo"]


def test_vllm_runs_as_upstream_runs_it_and_the_attention_backend_can_be_left_to_vllm():
    orch = plan(tiers={"orch": {"vllm": {"attention_backend": ""}}, "coder": {"env": {"VLLM_ROCM_USE_AITER": "1"}}})
    tiers = {t["tier"]: t for t in orch["tiers"]}
    assert "--attention-backend" not in cmd(tiers["orch"])
    assert tiers["coder"]["container"]["env"]["VLLM_ROCM_USE_AITER"] == "1"
    assert tiers["orch"]["container"]["env"]["VLLM_USE_TRITON_AWQ"] == "1"


def test_vllm_on_the_cpu_gets_its_kv_cache_in_bytes_from_the_ledger_and_nothing_of_the_gpu():
    result = plan(tiers={"orch": {"device": "cpu", "vllm": {"gpu_util": 0.9}}}, facts={"gpu_mb": STRIX_GPU_MB})
    assert result["problems"] == []  # a CPU tier's share is not a GPU share: 0.9 + the coder's 0.55 is fine
    orch = result["tiers"][0]
    assert (orch["tier"], orch["engine"], orch["device"]) == ("orch", "vllm", "cpu")  # still before the coder
    box, row = orch["container"], [r for r in result["ledger"]["rows"] if r["tier"] == "orch"][0]
    argv = cmd(orch)
    assert argv[:3] == ["vllm", "serve", "/models/orch"] and box["image"] == DEFAULTS["strix_images"]["vllm_cpu"]
    assert box["image_key"] == "vllm_cpu"
    # Qwen2.5-14B-Instruct: 48 layers x 8 KV heads x (128 + 128) x 2 bytes, for 32768 tokens x 2 sequences and
    # the block vLLM keeps aside
    kv_mb = -(-(32768 * 2 + 256) * 196608 // (1024 * 1024))
    assert argv[argv.index("--kv-cache-memory-bytes") + 1] == str(kv_mb * 1024 * 1024)
    assert row["kv_mb"] == kv_mb and row["device"] == "cpu"
    assert row["mb"] == row["weights_mb"] + kv_mb + DEFAULTS["strix_vllm_activation_reserve_mb"]
    for gpu_only in ("--gpu-memory-utilization", "--attention-backend"):
        assert gpu_only not in argv
    assert box["devices"] == [] and box["groups"] == []
    assert not [k for k in box["env"] if "ROCM" in k or "TRITON" in k or "AWQ" in k]
    assert not [v for v in box["volumes"] if "triton" in v]
    assert box["cache_dirs"] == ["/root/.cache/huggingface", "/root/.cache/vllm"]
    assert "--enable-auto-tool-choice" in argv and argv[argv.index("--tool-call-parser") + 1] == "hermes"


def test_llamacpp_healthchecks_need_only_bash():
    reviewer = plan(mode="cpu")["tiers"][0]["container"]["healthcheck"]
    assert reviewer[:3] == ["CMD", "bash", "-c"] and "/dev/tcp/127.0.0.1/8011" in reviewer[3]
    assert "curl" not in reviewer[3] and "python" not in reviewer[3]


def test_a_bind_address_off_loopback_without_a_key_is_refused():
    problems = plan(mode="full", bind_address="0.0.0.0")["problems"]
    assert len(problems) == 1 and problems[0].startswith("strix_bind_address 0.0.0.0 leaves loopback")
    assert "strix_api_key: generate" in problems[0]
    assert plan(mode="full", bind_address="192.168.1.20", api_key="none")["problems"] == problems[:0] + [
        problems[0].replace("0.0.0.0", "192.168.1.20")]
    for loopback in ("127.0.0.1", "127.0.1.1", "::1"):
        assert plan(mode="cpu", bind_address=loopback)["problems"] == []


def test_with_a_key_the_servers_get_an_environment_file_and_opencode_a_file_reference():
    result = plan(mode="full", bind_address="0.0.0.0", api_key="generate", api_key_file="/etc/strix-opencode/api-key")
    assert result["problems"] == []
    assert result["api_key"] == {"key": "/etc/strix-opencode/api-key", "env": "/etc/strix-opencode/api-key.env"}
    for tier in result["tiers"]:
        assert tier["container"]["env_file"] == "/etc/strix-opencode/api-key.env"
        assert tier["api_key_file"] == "/etc/strix-opencode/api-key"
        assert "--api-key" not in cmd(tier) and "--api-key-file" not in cmd(tier)
    for name, provider in result["opencode"]["providers"].items():
        if name.startswith("local_"):
            assert provider["options"]["apiKey"] == "{file:~/.config/opencode/strix-api-key}"
            assert provider["options"]["baseURL"].startswith("http://127.0.0.1:")
    edits = dict((tuple(e["key_path"]), e["value"]) for e in result["opencode"]["config_edits"])
    assert edits[("provider", "local_orch", "options", "apiKey")] == "{file:~/.config/opencode/strix-api-key}"


def test_without_a_key_nothing_refers_to_one():
    result = plan(mode="cpu")
    assert result["api_key"] is None
    assert all(t["container"]["env_file"] is None and t["api_key_file"] is None for t in result["tiers"])
    assert all(p["options"]["apiKey"] == "local" for p in result["opencode"]["providers"].values())


def test_an_unusable_key_is_refused_without_being_shown():
    problems = plan(mode="cpu", bind_address="0.0.0.0", api_key="invalid")["problems"]
    assert problems == ["strix_api_key must be at least 16 printable characters without spaces or quotes (or "
                        "generate, for a key made on the box); the value given is not shown"]
    assert "strix_api_key_file must be an absolute path" in " ".join(
        plan(mode="cpu", api_key="given", api_key_file="etc/key")["problems"])


def test_a_workstation_gets_the_box_layout_at_the_box_address():
    box = plan(mode="full", bind_address="0.0.0.0", api_key="generate", api_key_file="/etc/strix-opencode/api-key")
    layout = opencode_remote(box["opencode"], "10.0.0.21")
    urls = dict((name, p["options"]["baseURL"]) for name, p in layout["providers"].items() if name.startswith("local_"))
    assert urls == {"local_orch": "http://10.0.0.21:8001/v1", "local_coder": "http://10.0.0.21:8002/v1",
                    "local_reviewer": "http://10.0.0.21:8011/v1", "local_utility": "http://10.0.0.21:8012/v1"}
    edits = dict((tuple(e["key_path"]), e["value"]) for e in layout["config_edits"])
    assert edits[("provider", "local_coder", "options", "baseURL")] == "http://10.0.0.21:8002/v1"
    assert edits[("provider", "local_coder", "options", "apiKey")] == "{file:~/.config/opencode/strix-api-key}"
    assert layout["switch"] == box["opencode"]["switch"] and layout["agents"] == box["opencode"]["agents"]
    # the box's own layout is untouched
    assert box["opencode"]["providers"]["local_orch"]["options"]["baseURL"] == "http://127.0.0.1:8001/v1"
    for bad in ("", "10.0.0.21/x", "a b"):
        with pytest.raises(AnsibleFilterError, match="opencode_box_address must be a host name or IP address"):
            opencode_remote(box["opencode"], bad)


def test_the_mirror_holds_every_hub_model_of_the_fleet_once():
    from ansible_collections.strix.opencode.plugins.filter.mirror import mirror_models  # pylint: disable=import-outside-toplevel
    full = plan(mode="full")
    cpu = plan(mode="cpu", tiers={"utility": {"model": {"path": "/srv/models/own.gguf"}}})
    models = mirror_models([full, cpu, full])
    assert [(m["repo_id"], m.get("filename")) for m in models] == [
        ("Qwen/Qwen2.5-14B-Instruct", None),
        ("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf"),
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", None),
        ("bartowski/Llama-3.3-70B-Instruct-GGUF", "Llama-3.3-70B-Instruct-Q4_K_M.gguf"),
    ]
    assert models[0]["allow_patterns"] == ["*.safetensors", "*.json", "tokenizer*", "*.txt"]
    assert all(m["revision"] == "main" for m in models)
    with pytest.raises(AnsibleFilterError):
        mirror_models("strix")


def test_a_file_the_catalog_knows_is_verified_against_its_sha256_unless_the_inventory_gives_one():
    from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import SMOLLM2_GGUF_SHA256  # pylint: disable=import-outside-toplevel
    smol = {"repo_id": "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "filename": "SmolLM2-135M-Instruct.Q4_1.gguf"}
    tiers = {"utility": {"context": 8192, "llamacpp": {"model": smol}}}
    plan = strix_plan(description(mode="cpu", tiers=tiers), FACTS)
    assert [t["model"]["sha256"] for t in plan["tiers"] if t["tier"] == "utility"] == [SMOLLM2_GGUF_SHA256]
    given = dict(smol, sha256="e" * 64)
    plan = strix_plan(description(mode="cpu", tiers={"utility": {"context": 8192, "llamacpp": {"model": given}}}), FACTS)
    assert [t["model"]["sha256"] for t in plan["tiers"] if t["tier"] == "utility"] == ["e" * 64]
    # a file the catalog has no checksum for gets none
    assert [t["model"]["sha256"] for t in plan["tiers"] if t["tier"] == "reviewer"] == [""]
