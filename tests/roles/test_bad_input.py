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
    ("amdgpu", {"amdgpu_driver": "radeon"}, "amdgpu_driver"),
    ("amdgpu", {"amdgpu_probe_root": "fixture/box"}, "amdgpu_probe_root"),
    ("docker", {"docker_users": ["no-such-docker-user"]}, "docker_users"),
    ("docker", {"docker_repo_url": "download.docker.com"}, "docker_repo_url"),
    ("docker", {"docker_source": "snap"}, "docker_source"),
    ("models", {}, "missing required arguments: strix_plan"),
    ("stack", {}, "missing required arguments: strix_plan"),
    ("stack", {"stack_image_pull": "sometimes"}, "stack_image_pull"),
    ("opencode", {}, "missing required arguments: strix_plan"),
    ("plan", {"strix_mode": "turbo"}, "strix_mode"),
    ("plan", {"strix_tier_enable": {"gpu": True}}, "strix_tier_enable names an unknown tier 'gpu'"),
    ("plan", {"strix_bind_address": "localhost"}, "strix_bind_address must be an IP address"),
    ("plan", {"strix_hf_home": "cache/hf"}, "strix_hf_home must be an absolute path"),
    ("plan", {"strix_tiers": {"orch": {"port": 70000}}}, "strix_tiers.orch.port must be a port number"),
    ("plan", {"strix_tiers": {"orch": {"vllm": {"gpu_util": "lots"}}}}, "strix_tiers.orch.gpu_util must be a share"),
    ("plan", {"strix_tiers": {"coder": {"vllm": {"gpu_util": 0.7}}}},
     "strix_tiers.orch.gpu_util + strix_tiers.coder.gpu_util = 1.05, more than 1.0"),
    ("plan", {"strix_tiers": {"coder": {"vllm": {"kv_cache_dtype": "fp8"}}}}, "kv_cache_dtype must be auto on gfx1151"),
    ("plan", {"strix_tiers": {"orch": {"contxt": 8192}}}, "strix_tiers.orch: unknown setting 'contxt'"),
    ("plan", {"strix_mode": "cpu", "strix_tiers": {"reviewer": {"model": {"path": "/etc/nope.gguf"}}}},
     "strix_tiers.reviewer.model.path: /etc/nope.gguf is not on the box"),
    ("plan", {"strix_mode": "cpu", "strix_tiers": {"utility": {"context": 0}}},
     "strix_tiers.utility.context must be a whole number above 0"),
    ("plan", {"strix_mode": "cpu", "strix_tiers": {"reviewer": {"llamacpp": {"kv_bytes_per_token": 10 ** 12}}}},
     "more than RAM and swap"),
    ("plan", {"orch": "sideways"}, "orch must be cloud or local (vllm)"),
    ("plan", {"orch": "cloud"}, "orch=cloud needs strix_cloud_planner.model"),
]

# The tasks a role runs before its first change: validation and read-only look-ups.
VALIDATION_TASKS = ("Validating arguments against arg spec", "Validate the", "Work out the", "Require an", "Look up the",
                    "Gather the facts", "Look at the", "List the", "Check the", "Check that", "Require the",
                    # the plan role (read-only)
                    "Read the box", "Read the GPU", "Ask the Hub", "Measure the free", "Plan the stack", "Show the plan",
                    "Refuse a plan")


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
            "strix_models_dir": str(tmp_path / "models"), "strix_plan_check_models": False, "strix_os_reserve_mb": 0,
            "amdgpu_users": ["root"], "docker_users": ["root"], "amdgpu_supported_releases": ["bookworm", "jammy", "noble"]}
    rc, tasks, stats = run_role(role, {**safe, **variables})

    assert rc != 0
    ran = [task["task"]["name"].split(" : ", 1)[-1] for task in tasks]
    assert all(n.startswith(VALIDATION_TASKS) for n in ran), f"tasks ran past validation: {ran}"
    assert name in failure_message(tasks)
    assert stats["localhost"]["changed"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["play.yml", "vars.json"]
