"""The site converged end to end: health table, the real OpenCode CLI through the default agent, switch_orch."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))


def playbook(*args, env=None):
    """Run a playbook of the collection against the scenario's box, as molecule runs its own."""
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           str(ROOT / "playbooks" / args[0])] + list(args[1:])
    return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT,
                          env=dict(os.environ, **(env or {})))


def test_health_table_says_every_tier_is_healthy():
    # The json callback: the table as the task printed it, one block of lines.
    proc = playbook("health.yml", env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert proc.returncode == 0, proc.stdout[-2000:]
    tasks = [task for play in json.loads(proc.stdout)["plays"] for task in play["tasks"]]
    # the stack role's health entry point: the json callback names a role's task "<role> : <name>"
    table = [task for task in tasks if task["task"]["name"].split(" : ", 1)[-1] == "Show the health table"][0]
    lines = list(table["hosts"].values())[0]["msg"].splitlines()
    assert lines[0].split() == ["tier", "engine", "on", "port", "model", "state", "latency", "image", "(digest",
                                "it", "runs)"], lines
    rows = dict((line.split()[0], line.split()) for line in lines[1:])
    assert sorted(rows) == ["reviewer", "utility"], lines
    for tier, served in (("reviewer", "smollm2-reviewer"), ("utility", "smollm2-utility")):
        assert rows[tier][1:6] == ["llamacpp", "cpu", {"reviewer": "8011", "utility": "8012"}[tier], served,
                                   "healthy"], lines
        assert rows[tier][7] == "ms" and float(rows[tier][6]) > 0, lines
        # the image the container runs, as the stack role recorded it (a local build has no registry digest:
        # its image id)
        image_id = subprocess.run(["docker", "inspect", "--format", "{{.Image}}", "molecule-site-%s" % tier],
                                  capture_output=True, text=True, check=True).stdout.strip()
        assert rows[tier][8:] == ["strix-opencode-llama-server:latest", "(%s)" % image_id[:19]], lines


def test_opencode_answers_through_the_default_agent_of_a_cpu_box(host):
    """No --model: the session starts on the default agent. With a cloud planner configured and no
    orchestrator, the plan makes the cloud planner primary (no internet here), so point it at the box first."""
    proc = playbook("site.yml", "--tags", "switch_orch", "-e", "orch=local")
    assert proc.returncode == 0, proc.stdout[-2000:]
    out = host.run("cd /tmp && timeout 300 opencode run 'Answer with one word: what color is the sky?' 2>&1")
    assert out.rc == 0, out.stdout[-3000:]
    assert out.stdout.strip(), "OpenCode printed no answer"
    slots = json.loads(host.check_output("curl -sf http://127.0.0.1:8011/slots"))
    assert any(slot.get("id_task", -1) >= 0 or slot.get("n_past", 0) > 0 for slot in slots), slots


@pytest.mark.parametrize("orch,model", [("cloud", "cloud_planner/gpt-5"), ("local", "local_reviewer/reviewer")])
def test_switch_orch_leaves_a_config_opencode_resolves(host, orch, model):
    proc = playbook("site.yml", "--tags", "switch_orch", "-e", "orch=%s" % orch)
    assert proc.returncode == 0, proc.stdout[-2000:]
    # To a file: OpenCode exits before a pipe has taken all of its output.
    host.check_output("cd /tmp && timeout 300 opencode debug config > /tmp/resolved.json")
    text = host.file("/tmp/resolved.json").content_string
    resolved = json.loads(text[text.index("{"):])
    assert resolved["model"] == model and resolved["agent"]["primary"]["model"] == model
    assert resolved["default_agent"] == "primary"
    assert resolved["provider"]["local_utility"]["options"]["baseURL"] == "http://127.0.0.1:8012/v1"
