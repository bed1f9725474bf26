"""A bad variable fails before any change, with a message that names the variable.

Every case is a host of its own in one ansible-playbook run (each a fork running its role on this machine, with
its own directory for whatever the role could touch): a failed host stops alone, so one run shows them all.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
import gpu_fixture  # noqa: E402  pylint: disable=wrong-import-position

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
    ("opencode", {}, "the opencode role needs strix_plan"),
    ("mirror", {"mirror_models": [{"filename": "x.gguf"}]}, "mirror_models must be a list of {repo_id, filename}"),
    ("mirror", {"mirror_port": "http"}, "mirror_port"),
    # The plan's refusals are the filter's unit tests; here only the wiring: the argument spec, a refusal of the
    # filter, the key (the role tells the filter only its state) and a model the box lacks (a look at the box).
    ("plan", {"strix_mode": "turbo"}, "strix_mode"),
    ("plan", {"strix_tiers": {"orch": {"port": 70000}}}, "strix_tiers.orch.port must be a port number"),
    ("plan", {"strix_mode": "cpu", "strix_tiers": {"reviewer": {"model": {"path": "/etc/nope.gguf"}}}},
     "strix_tiers.reviewer.model.path: /etc/nope.gguf is not on the box"),
    ("plan", {"strix_bind_address": "0.0.0.0", "strix_api_key": "short"},
     "strix_api_key must be at least 16 printable characters"),
]

# The tasks a role runs before its first change: validation and read-only look-ups.
VALIDATION_TASKS = ("Validating arguments against arg spec", "Validate the", "Work out the", "Require an", "Look up the",
                    "Gather the facts", "Look at the", "List the", "Check the", "Check that", "Require the",
                    "Read the host requirements", "Read the running kernel", "Choose the driver",
                    # the plan role (read-only)
                    "Read the box", "Read the GPU", "Read what the models", "Ask the Hub", "Measure the free", "Plan the stack", "Show the plan",
                    "Refuse a plan", "Refuse to run")


GPU_CASE = "plan-gpu-too-small"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """{case: (tasks that ran for it, in order, with its result; its play stats; its directory)} of one run."""
    work = tmp_path_factory.mktemp("bad-input")
    # A box whose GPU has half the memory planned for (62 GiB GTT: the DKMS driver with ttm.* parameters).
    gpu_root = str(work / "gpu-root")
    gpu_fixture.build(gpu_root, "6.18.5-061805-generic", 62, "inbox", booted=True)
    cases = {f"case{i}": (case[0], case[1]) for i, case in enumerate(BAD_INPUT)}
    cases[GPU_CASE] = ("plan", {"amdgpu_probe_root": gpu_root})
    hosts = {}
    for case, (role, variables) in cases.items():
        directory = work / case
        directory.mkdir()
        # Keep every path the role could touch inside the case's directory.
        safe = {"swap_file_path": str(directory / "swap.img"),
                "swappiness_sysctl_file": str(directory / "99-swappiness.conf"),
                "opencode_users": [], "opencode_project_dirs": [str(directory)],
                "strix_models_dir": str(directory / "models"), "strix_plan_check_models": False,
                "strix_os_reserve_mb": 0, "amdgpu_users": ["root"], "docker_users": ["root"],
                "amdgpu_supported_releases": ["bookworm", "jammy", "noble"]}
        hosts[case] = {**safe, **variables, "case_role": role, "case_dir": str(directory),
                       "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (work / "play.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Run the case's role\n"
        "      ansible.builtin.include_role:\n        name: \"strix.opencode.{{ case_role }}\"\n")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORKS="40",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_LOCALHOST_WARNING="false")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "inventory.yml"),
                           str(work / "play.yml")], capture_output=True, text=True, env=env, cwd=work, check=False)
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
    except (ValueError, json.JSONDecodeError):
        pytest.fail(f"ansible-playbook printed no JSON report:\n{proc.stdout}\n{proc.stderr}")
    assert proc.returncode != 0
    tasks = [task for play in report["plays"] for task in play["tasks"]]
    return {case: ([(task["task"]["name"], task["hosts"][case]) for task in tasks if case in task["hosts"]],
                   report["stats"][case], work / case) for case in cases}


def failure_message(ran):
    for _task, result in ran:
        if result.get("failed"):
            return result.get("msg", "") + str(result.get("results", ""))
    return ""


@pytest.mark.parametrize("case,name", [(f"case{i}", n) for i, (r, v, n) in enumerate(BAD_INPUT)],
                         ids=[f"{r}-{n}" for r, v, n in BAD_INPUT])
def test_bad_variable_fails_first_and_names_itself(outcomes, case, name):
    ran, stats, directory = outcomes[case]
    names = [task.split(" : ", 1)[-1] for task, _result in ran if task != "Run the case's role"]
    assert stats["failures"] == 1 and stats["changed"] == 0
    assert all(n.startswith(VALIDATION_TASKS) for n in names), f"tasks ran past validation: {names}"
    assert name in failure_message(ran)
    assert list(directory.iterdir()) == []


def test_the_plan_refuses_vllm_shares_the_gpu_memory_the_box_reports_cannot_hold(outcomes):
    """A box whose GPU has half the memory planned for (62 GiB GTT: the DKMS driver with ttm.* parameters)."""
    ran, stats, _directory = outcomes[GPU_CASE]
    assert stats["failures"] == 1 and stats["changed"] == 0
    message = failure_message(ran)
    assert "strix_tiers.orch.gpu_util 0.35 of the 62.5 GiB of GPU memory the box reports is 21.9 GiB, less than " \
        "the 41.5 GiB its weights (27.5 GiB), KV cache (12.0 GiB for 32768 tokens x 2) and activations (2.0 GiB) " \
        "need" in message, message
    assert "strix_tiers.coder.gpu_util 0.55 of the 62.5 GiB" in message
