"""Shared fixtures: run the installed collection's roles with ansible-playbook."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Make this checkout importable as ansible_collections.strix.opencode, so the unit tests exercise the
# working tree (the molecule scenarios and role tests use the installed tarball instead).
_IMPORT_ROOT = ROOT / ".cache" / "pytest-collections"
_LINK = _IMPORT_ROOT / "ansible_collections" / "strix" / "opencode"
if not _LINK.is_symlink():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    _LINK.symlink_to(ROOT, target_is_directory=True)
sys.path.insert(0, str(_IMPORT_ROOT))


@pytest.fixture
def run_role(tmp_path):
    """Run one role of strix.opencode against localhost with the given variables.

    Returns (returncode, tasks) where tasks is the json callback's list of task results, in order.
    """

    def run(role, variables, check=False, tags=None):
        playbook = tmp_path / "play.yml"
        # Several roles in order, e.g. ["plan", "opencode"]; the plan runs whatever the tags, as in site.yml.
        roles = [role] if isinstance(role, str) else role
        playbook.write_text(
            "- hosts: localhost\n  gather_facts: false\n  roles:\n"
            + "".join(f"    - role: strix.opencode.{name}\n" + ("      tags: [always]\n" if name == "plan" else "")
                      for name in roles)
        )
        extra = tmp_path / "vars.json"
        extra.write_text(json.dumps(variables))
        env = dict(
            os.environ,
            ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
            ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        )
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"@{extra}", "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)]
        if check:
            cmd.append("--check")
        if tags:
            cmd += ["--tags", tags]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
        try:
            report = json.loads(proc.stdout[proc.stdout.index("{"):])
        except json.JSONDecodeError:
            pytest.fail(f"ansible-playbook printed no JSON report:\n{proc.stdout}\n{proc.stderr}")
        tasks = [task for play in report["plays"] for task in play["tasks"]]
        return proc.returncode, tasks, report["stats"]

    return run
