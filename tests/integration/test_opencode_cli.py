"""The deployed configuration, read by the real OpenCode CLI (npm opencode-ai, the role's pinned version).

The role writes a project's opencode.jsonc and .omo/omo.jsonc; `opencode debug config`, run in that
project with a throwaway HOME, must resolve the four local providers, the agents' models and the plugin
agents' caps; the orchestrator switch must move only the model lines and come back byte for byte.
"""
import difflib
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from ansible_collections.strix.opencode.plugins.module_utils.jsonc import loads as jsonc_loads

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = yaml.safe_load((ROOT / "roles/opencode/defaults/main.yml").read_text())
CLI_DIR = ROOT / ".cache" / "opencode-cli" / DEFAULTS["opencode_cli_version"]


@pytest.fixture(scope="session")
def opencode():
    """The opencode binary of the role's pinned version, installed from npm once per checkout."""
    binary = CLI_DIR / "node_modules" / ".bin" / "opencode"
    if not binary.exists():
        assert shutil.which("npm"), "npm is needed to install the OpenCode CLI for these tests"
        CLI_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CLI_DIR),
                        "opencode-ai@%s" % DEFAULTS["opencode_cli_version"]], check=True, capture_output=True)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == DEFAULTS["opencode_cli_version"]
    return binary


@pytest.fixture(scope="session")
def home(tmp_path_factory):
    """One throwaway HOME for the session, so OpenCode fetches the plugin from npm once."""
    return tmp_path_factory.mktemp("home")


@pytest.fixture
def resolved(opencode, home):
    """Run `opencode debug config` in a project; return the configuration OpenCode resolved."""
    def run(project):
        env = {"HOME": str(home), "PATH": os.environ["PATH"], "OPENAI_API_KEY": "sk-test-not-a-real-key"}
        # To a file, not a pipe: OpenCode exits before a pipe has taken all of its (large) output.
        out = project.parent / "debug-config.json"
        with open(out, "w") as handle:
            proc = subprocess.run([str(opencode), "debug", "config"], cwd=project, env=env, stdout=handle,
                                  stderr=subprocess.PIPE, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        text = out.read_text()
        return json.loads(text[text.index("{"):])
    return run


@pytest.fixture
def project(tmp_path, run_role):
    """A project directory with the role's files, the cloud planner configured."""
    directory = tmp_path / "project"
    directory.mkdir()
    settings = {"opencode_users": [], "opencode_project_dirs": [str(directory)], "strix_mode": "full",
                "strix_plan_check_models": False, "strix_memory_budget_enforce": False,
                "strix_cloud_planner": {"model": "gpt-5", "npm": "@ai-sdk/openai", "base_url": "",
                                        "api_key_env": "OPENAI_API_KEY"}}

    def converge(**extra):
        rc, tasks, stats = run_role(["plan", "opencode"], {**settings, **extra.pop("variables", {})}, **extra)
        assert rc == 0, [t["hosts"] for t in tasks if any(h.get("failed") for h in t["hosts"].values())]
        return stats["localhost"]["changed"]

    converge()
    return SimpleNamespace(dir=directory, converge=converge)


def plugin_agents(config):
    """The plugin's agents as OpenCode resolved them, by their short name (sisyphus, oracle, ...)."""
    agents = {}
    for name, agent in config["agent"].items():
        short = name.split(" - ")[0].lower()
        agents[short] = agent
    return agents


def test_opencode_resolves_the_local_providers_and_agents(project, resolved):
    config = resolved(project.dir)
    providers = config["provider"]
    assert {p: providers[p]["options"]["baseURL"] for p in providers if p.startswith("local_")} == {
        "local_orch": "http://127.0.0.1:8001/v1", "local_coder": "http://127.0.0.1:8002/v1",
        "local_reviewer": "http://127.0.0.1:8011/v1", "local_utility": "http://127.0.0.1:8012/v1"}
    assert providers["local_orch"]["models"]["orch"]["id"] == "Qwen/Qwen2.5-14B-Instruct"
    assert providers["cloud_planner"]["options"]["apiKey"] == "***"  # resolved from the environment, not the file
    assert config["model"] == "local_orch/orch"
    assert {a: config["agent"][a]["model"] for a in ("primary", "coder", "reviewer", "utility")} == {
        "primary": "local_orch/orch", "coder": "local_coder/coder",
        "reviewer": "local_reviewer/reviewer", "utility": "local_utility/utility"}
    # The plugin hides hephaestus unless it runs on a GPT model, and hard-codes sisyphus-junior's output
    # cap (64000) whatever its config says (DECISIONS.md); every other agent takes model and cap from omo.jsonc.
    agents = plugin_agents(config)
    expected = {"sisyphus": ("local_orch/orch", 16384), "sisyphus-junior": ("local_coder/coder", 64000)}
    expected.update((a, ("local_reviewer/reviewer", 16384)) for a in ("oracle", "prometheus", "metis", "momus"))
    expected.update((a, ("local_utility/utility", 4096)) for a in ("librarian", "explore", "atlas"))
    assert {a: (agents[a]["model"], agents[a]["maxTokens"]) for a in expected} == expected
    assert "sk-test" not in (project.dir / "opencode.jsonc").read_text()


def leaves(value, path=()):
    """Every (key path, value) of a JSON value, down to its scalars and lists."""
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from leaves(item, path + (key,))
    else:
        yield path, value


def test_opencode_keeps_every_key_the_role_wrote(project, resolved):
    """OpenCode drops keys it does not know without a word, so "debug config exits 0" proves nothing: every key
    the role wrote must come back from OpenCode with the value written ({env:...} resolved, so masked)."""
    written = jsonc_loads((project.dir / "opencode.jsonc").read_text())
    missing, different = compare(written, resolved(project.dir))
    assert not missing and not different, (missing, different)
    assert len(list(leaves(written))) > 30  # the providers, their models and limits, the agents, the plugin
    # and the comparison does catch a key OpenCode drops
    planted = project.dir.parent / "planted"
    planted.mkdir()
    written["provider"]["local_orch"]["models"]["orch"]["bogus_limit"] = 1
    (planted / "opencode.jsonc").write_text(json.dumps(written))
    assert compare(written, resolved(planted))[0] == ["provider.local_orch.models.orch.bogus_limit"]


def compare(written, config):
    """The key paths written that OpenCode dropped, and those it kept with another value."""
    missing, different = [], []
    for path, value in leaves(written):
        if path == ("$schema",):
            continue  # the editor's hint; OpenCode reads it and does not echo it
        node = config
        for key in path:
            if not isinstance(node, dict) or key not in node:
                missing.append(".".join(path))
                break
            node = node[key]
        else:
            # OpenCode masks every apiKey in its output (a {env:...} one is resolved first)
            expected = "***" if path[-1] == "apiKey" else value
            if node != expected:
                different.append((".".join(path), value, node))
    return missing, different


def test_the_switch_moves_only_the_model_lines_and_comes_back(project, resolved):
    files = [project.dir / "opencode.jsonc", project.dir / ".omo" / "omo.jsonc"]
    original = [f.read_text() for f in files]

    assert project.converge(variables={"orch": "cloud"}, tags="switch_orch") == 1  # one task edits both files
    cloud = resolved(project.dir)
    assert cloud["model"] == "cloud_planner/gpt-5"
    assert cloud["agent"]["primary"]["model"] == "cloud_planner/gpt-5"
    sisyphus = plugin_agents(cloud)["sisyphus"]
    assert sisyphus["model"] == "cloud_planner/gpt-5" and sisyphus.get("maxTokens") != 16384
    assert cloud["agent"]["coder"]["model"] == "local_coder/coder"
    changed = [line for before, f in zip(original, files)
               for line in difflib.unified_diff(before.splitlines(), f.read_text().splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 6 and all('"model"' in line for line in changed), changed

    assert project.converge(variables={"orch": "vllm"}, tags="switch_orch") == 1
    assert [f.read_text() for f in files] == original
    assert resolved(project.dir)["agent"]["primary"]["model"] == "local_orch/orch"


def test_hand_edits_survive_a_rerun(project):
    config = project.dir / "opencode.jsonc"
    text = config.read_text().replace('  "$schema"', '  // my own note\n  "theme": "tokyonight",\n  "$schema"')
    text = text.replace('"baseURL": "http://127.0.0.1:8011/v1"', '"baseURL": "http://10.0.0.9:8011/v1"')
    config.write_text(text)

    assert project.converge() == 1
    after = config.read_text()
    assert '  // my own note\n  "theme": "tokyonight",\n' in after
    assert '"baseURL": "http://127.0.0.1:8011/v1"' in after  # a value the role owns is put back
    assert project.converge() == 0
