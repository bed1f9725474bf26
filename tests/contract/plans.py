"""The plans the contract tests hand to the real programs: every preset with the default models, on a box with
the GPU memory the amdgpu role's defaults give (124 GiB GTT and a 512 MiB carve-out)."""
from pathlib import Path

import yaml

from ansible_collections.strix.opencode.plugins.filter.strix_plan import strix_plan

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((ROOT / "roles/plan/defaults/main.yml").read_text())
FACTS = {"ram_mb": 125 * 1024, "swap_mb": 128 * 1024, "gpu_mb": 124 * 1024 + 512}


def description(**over):
    d = dict(mode="full", tier_enable={}, tiers={}, tier_defaults=DEFAULTS["strix_tier_defaults"], stack_name="strix",
             network_mode="host", bind_address="127.0.0.1", images=DEFAULTS["strix_images"],
             gpu_devices=DEFAULTS["strix_gpu_devices"], gpu_groups=DEFAULTS["strix_gpu_groups"],
             load_args=DEFAULTS["strix_llamacpp_load_args"], hf_home=DEFAULTS["strix_hf_home"],
             vllm_cache_dir=DEFAULTS["strix_vllm_cache_dir"], triton_cache_dir=DEFAULTS["strix_triton_cache_dir"],
             vllm_env=DEFAULTS["strix_vllm_env"], vllm_activation_reserve_mb=DEFAULTS["strix_vllm_activation_reserve_mb"],
             allow_kv_cache_dtype=False, os_reserve_mb=DEFAULTS["strix_os_reserve_mb"], memory_budget_enforce=True,
             models_dir=DEFAULTS["strix_models_dir"], hf_endpoint=DEFAULTS["strix_hf_endpoint"],
             free_space_margin_mb=0, cloud_planner=DEFAULTS["strix_cloud_planner"],
             plugin_agents=DEFAULTS["strix_plugin_agents"], orch="")
    d.update(over)
    return d


def plan_of(**over):
    result = strix_plan(description(**over), FACTS)
    assert result["problems"] == [], result["problems"]
    return result
