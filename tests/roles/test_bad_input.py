"""A bad variable fails before any change, with a message that names the variable."""
import pytest

# (role, variables, name the message must contain)
BAD_INPUT = [
    ("swap", {"swap_file_size_mb": -1}, "swap_file_size_mb"),
    ("swap", {"swap_file_size_mb": "big"}, "swap_file_size_mb"),
    ("swap", {"swap_file_path": "relative/swap.img"}, "swap_file_path"),
    ("swap", {"swap_state": "gone"}, "swap_state"),
    ("swap", {"swap_free_space_margin_mb": -5}, "swap_free_space_margin_mb"),
    ("earlyoom", {"earlyoom_mem_min_percent": 0}, "earlyoom_mem_min_percent"),
    ("earlyoom", {"earlyoom_swap_min_percent": 101}, "earlyoom_swap_min_percent"),
    ("earlyoom", {"earlyoom_prefer_regex": "^(llama server)$"}, "earlyoom_prefer_regex"),
    ("swappiness", {"swappiness_value": 201}, "swappiness_value"),
    ("swappiness", {"swappiness_value": -1}, "swappiness_value"),
    ("swappiness", {"swappiness_value": "high"}, "swappiness_value"),
    ("swappiness", {"swappiness_sysctl_file": "sysctl.d/99-x.conf"}, "swappiness_sysctl_file"),
    ("amdgpu", {"amdgpu_users": ["no-such-gpu-user"]}, "amdgpu_users"),
    ("amdgpu", {"amdgpu_repo_url": "repo.radeon.com/amdgpu"}, "amdgpu_repo_url"),
    ("amdgpu", {"amdgpu_gpu_memory_gib": "lots"}, "amdgpu_gpu_memory_gib"),
    ("amdgpu", {"amdgpu_gpu_memory_gib": 512}, "amdgpu_gpu_memory_gib"),
    ("amdgpu", {"amdgpu_gpu_memory_gib": 12.5}, "amdgpu_gpu_memory_gib"),
    ("amdgpu", {"amdgpu_supported_releases": ["noble"]}, "amdgpu_supported_releases"),
    ("docker", {"docker_users": ["no-such-docker-user"]}, "docker_users"),
    ("docker", {"docker_repo_url": "download.docker.com"}, "docker_repo_url"),
    ("docker", {"docker_source": "snap"}, "docker_source"),
    ("models", {"models_dir": "models"}, "models_dir"),
    ("models", {"models_tiers": ["orch", "gpu"]}, "models_tiers"),
    ("models", {"models_tiers": ["x"], "models_catalog": {"x": {"repo_id": "../etc"}}}, "models_catalog.x.repo_id"),
    ("models", {"models_progress_interval": 0}, "models_progress_interval"),
    ("opencode", {"orch": "sideways"}, "orch"),
    ("opencode", {"orch": "cloud"}, "opencode_cloud_model"),
    ("opencode", {"opencode_local_tiers": ["orch", "gpu"]}, "opencode_local_tiers"),
    ("opencode", {"opencode_users": ["no-such-user-here"]}, "opencode_users"),
    ("opencode", {"opencode_project_dirs": ["/no/such/project"]}, "opencode_project_dirs"),
    ("opencode", {"opencode_tiers": {"orch": {"port": "eighty", "model_id": "m", "context": 1, "output": 1}},
                  "opencode_local_tiers": ["orch"]}, "opencode_tiers.orch.port"),
    ("vllm", {"strix_mode": "turbo"}, "vllm_mode (strix_mode) must be one of"),
    ("vllm", {"vllm_mode": "turbo"}, "vllm_mode"),
    ("vllm", {"strix_tier_enable": {"gpu": True}}, "vllm_tier_enable (strix_tier_enable)"),
    ("vllm", {"vllm_bind_address": "localhost"}, "vllm_bind_address"),
    ("vllm", {"vllm_hf_home": "cache/hf"}, "vllm_hf_home"),
    ("vllm", {"vllm_orch_port": 70000}, "vllm_orch_*"),
    ("vllm", {"vllm_orch_gpu_util": "lots"}, "vllm_orch_gpu_util"),
    ("vllm", {"vllm_coder_gpu_util": 0.7}, "vllm_orch_gpu_util + vllm_coder_gpu_util = 1.05, more than 1.0"),
    ("vllm", {"vllm_coder_kv_cache_dtype": "fp8"}, "vllm_<tier>_kv_cache_dtype must be auto"),
    ("vllm", {"vllm_device_groups": ["no-such-group"]}, "vllm_device_groups: no-such-group"),
    ("vllm", {"vllm_orch_model_path": "/no/such/model"}, "vllm_orch_model_path: /no/such/model has no config.json"),
    ("vllm", {"vllm_image_pull": "sometimes"}, "vllm_image_pull"),
    ("llamacpp", {"strix_mode": "cpu", "llamacpp_models_dir": "/etc", "llamacpp_reviewer_gguf": "nope.gguf"},
     "llamacpp_reviewer_gguf: /etc/nope.gguf is not a file"),
    ("llamacpp", {"llamacpp_models_dir": "models"}, "llamacpp_models_dir"),
    ("llamacpp", {"llamacpp_utility_ctx": 0}, "llamacpp_utility_*"),
    ("llamacpp", {"llamacpp_reviewer_gguf": "../x.gguf"}, "llamacpp_reviewer_*"),
    ("llamacpp", {"strix_mode": "cpu", "llamacpp_models_dir": "/etc", "llamacpp_reviewer_gguf": "hostname",
                  "llamacpp_utility_gguf": "hostname", "llamacpp_reviewer_kv_bytes_per_token": 10**12},
     "more than RAM and swap"),
]

# The tasks a role runs before its first change: validation and read-only look-ups.
VALIDATION_TASKS = ("Validating arguments against arg spec", "Validate the", "Work out the", "Require an", "Look up the",
                    "Gather the facts", "Look at the", "List the",
                    # the tier roles' preflight (read-only)
                    "Check the", "Check that", "Validate each", "Work out which", "Look for the", "Read the box",
                    "Reserve each", "Count each", "Add up the", "Show the memory")


def failure_message(tasks):
    for task in tasks:
        for result in task["hosts"].values():
            if result.get("failed"):
                return result.get("msg", "") + str(result.get("results", ""))
    return ""


@pytest.mark.parametrize("role,variables,name", BAD_INPUT, ids=[f"{r}-{n}" for r, v, n in BAD_INPUT])
def test_bad_variable_fails_first_and_names_itself(run_role, tmp_path, role, variables, name):
    # Keep every path the role could touch inside the test's directory.
    safe = {"swap_file_path": str(tmp_path / "swap.img"),
            "swappiness_sysctl_file": str(tmp_path / "99-swappiness.conf"),
            "opencode_users": [], "opencode_project_dirs": [str(tmp_path)],
            "models_dir": str(tmp_path / "models"),
            "amdgpu_users": ["root"], "docker_users": ["root"],
            "vllm_device_groups": ["root"], "llamacpp_device_groups": ["root"], "amdgpu_supported_releases": ["bookworm", "jammy", "noble"]}
    rc, tasks, stats = run_role(role, {**safe, **variables})

    assert rc != 0
    ran = [task["task"]["name"].split(" : ", 1)[-1] for task in tasks]
    assert all(n.startswith(VALIDATION_TASKS) for n in ran), f"tasks ran past validation: {ran}"
    assert name in failure_message(tasks)
    assert stats["localhost"]["changed"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["play.yml", "vars.json"]
