"""What the opencode role writes, for each way a box can be set up."""
import pytest
import yaml
from pathlib import Path

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.opencode_layout import opencode_layout, opencode_targets

DEFAULTS = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles/opencode/defaults/main.yml").read_text())
TIERS = DEFAULTS["opencode_tiers"]
AGENTS = DEFAULTS["opencode_plugin_agents"]
CLOUD = {"model": "gpt-5", "npm": "@ai-sdk/openai", "base_url": "", "api_key_env": "OPENAI_API_KEY"}
NO_CLOUD = dict(CLOUD, model="")


def layout(local_tiers=("orch", "coder", "reviewer", "utility"), cloud=None, orch=None, tiers=None):
    return opencode_layout(tiers or TIERS, list(local_tiers), "127.0.0.1", cloud or CLOUD, AGENTS, orch)


def edit(edits, *path):
    matches = [e for e in edits if e["key_path"] == list(path)]
    assert len(matches) == 1, (path, matches)
    return matches[0]


def test_full_box_points_everything_at_its_own_tier():
    result = layout()
    assert result["primary"] == "local_orch/orch" and result["small_model"] == "local_utility/utility"
    assert list(result["providers"]) == ["local_orch", "local_coder", "local_reviewer", "local_utility", "cloud_planner"]
    assert result["providers"]["local_reviewer"]["options"]["baseURL"] == "http://127.0.0.1:8011/v1"
    assert result["providers"]["cloud_planner"]["options"]["apiKey"] == "{env:OPENAI_API_KEY}"
    assert result["plugin_agents"]["sisyphus"] == {"model": "local_orch/orch", "maxTokens": 32768}
    assert result["plugin_agents"]["librarian"] == {"model": "local_utility/utility", "maxTokens": 4096}


def test_the_orchestrator_is_left_alone_unless_orch_is_given():
    result = layout()
    owned = [e["key_path"] for e in result["config_edits"] + result["plugin_edits"]]
    assert ["model"] not in owned and ["agent", "primary", "model"] not in owned
    assert ["[opencode]", "agents", "sisyphus", "model"] not in owned
    assert [e["key_path"] for e in result["switch_config_edits"]] == [["model"], ["agent", "primary", "model"]]


def test_cloud_switch_moves_the_primary_and_lifts_its_caps_only():
    result = layout(orch="cloud")
    assert result["primary"] == "cloud_planner/gpt-5"
    assert edit(result["switch_config_edits"], "agent", "primary", "model")["value"] == "cloud_planner/gpt-5"
    assert edit(result["switch_config_edits"], "provider", "cloud_planner", "npm")["value"] == "@ai-sdk/openai"
    assert edit(result["switch_plugin_edits"], "[opencode]", "agents", "sisyphus", "maxTokens")["state"] == "absent"
    assert edit(result["plugin_edits"], "[opencode]", "agents", "oracle", "maxTokens")["value"] == 16384


def test_cpu_box_uses_its_cpu_tiers_and_drops_the_gpu_ones():
    result = layout(local_tiers=["reviewer", "utility"], cloud=NO_CLOUD)
    assert result["primary"] == "local_reviewer/reviewer"
    assert list(result["providers"]) == ["local_reviewer", "local_utility"]
    assert edit(result["config_edits"], "provider", "local_orch")["state"] == "absent"
    assert edit(result["config_edits"], "agent", "coder")["state"] == "absent"
    # Agents of tiers the box does not run fall back to the primary agent's model.
    assert result["plugin_agents"]["hephaestus"]["model"] == "local_reviewer/reviewer"


def test_box_without_an_orchestrator_starts_on_the_cloud_planner():
    result = layout(local_tiers=["coder"])
    assert result["primary"] == "cloud_planner/gpt-5"
    assert "maxTokens" not in result["plugin_agents"]["sisyphus"]


@pytest.mark.parametrize("kwargs,message", [
    ({"orch": "sideways"}, "orch must be vllm or cloud, got 'sideways'"),
    ({"orch": "cloud", "cloud": NO_CLOUD}, "orch=cloud needs opencode_cloud_model"),
    ({"orch": "vllm", "local_tiers": ["utility"]}, "orch=vllm needs the orchestrator tier"),
    ({"local_tiers": [], "cloud": NO_CLOUD}, "OpenCode has no model to use"),
    ({"local_tiers": ["orch", "gpu"]}, "opencode_local_tiers: unknown tier(s) gpu"),
    ({"tiers": dict(TIERS, coder=dict(TIERS["coder"], port=70000))}, "opencode_tiers.coder.port must be a port number"),
    ({"tiers": dict(TIERS, utility=dict(TIERS["utility"], model_id=""))}, "opencode_tiers.utility.model_id"),
])
def test_bad_settings_fail_naming_the_variable(kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        layout(**kwargs)


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
