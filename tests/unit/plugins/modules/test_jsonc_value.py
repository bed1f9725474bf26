"""The jsonc_value module: check and diff mode, atomic writes, backups, errors that leave the file alone."""
import os
import stat

import pytest

from ansible_collections.strix.opencode.plugins.modules import jsonc_value

CONFIG = """{
  // agents
  "agent": {
    "primary": { "mode": "primary", "model": "local_orch/orch" }, // the orchestrator
  },
}
"""


@pytest.fixture
def run(run_module):
    return lambda **args: run_module(jsonc_value, **args)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "opencode.jsonc"
    path.write_text(CONFIG)
    path.chmod(0o640)
    return path


def test_sets_the_value_and_reports_before_and_after(run, config):
    result = run(path=str(config), key_path=["agent", "primary", "model"], value="cloud_planner/gpt-5")
    assert not result.get("failed") and result["changed"]
    assert (result["before"], result["after"], result["found"]) == ("local_orch/orch", "cloud_planner/gpt-5", True)
    assert config.read_text() == CONFIG.replace('"model": "local_orch/orch"', '"model": "cloud_planner/gpt-5"')
    assert stat.S_IMODE(config.stat().st_mode) == 0o640


def test_second_run_changes_nothing(run, config):
    run(path=str(config), key_path=["agent", "primary", "model"], value="cloud_planner/gpt-5")
    mtime = config.stat().st_mtime_ns
    result = run(path=str(config), key_path=["agent", "primary", "model"], value="cloud_planner/gpt-5")
    assert not result.get("failed") and not result["changed"]
    assert config.stat().st_mtime_ns == mtime


def test_check_mode_reports_without_writing(run, config):
    result = run(path=str(config), key_path=["agent", "primary", "model"], value="x/y",
                 _ansible_check_mode=True)
    assert not result.get("failed") and result["changed"]
    assert config.read_text() == CONFIG


def test_diff_shows_the_file_before_and_after(run, config):
    result = run(path=str(config), key_path=["agent", "coder", "model"], value="local_coder/coder",
                 _ansible_diff=True, _ansible_check_mode=True)
    assert result["diff"]["before"] == CONFIG
    assert '"coder": {\n      "model": "local_coder/coder"\n    },' in result["diff"]["after"]


def test_backup_keeps_the_old_file(run, config):
    result = run(path=str(config), key_path=["agent", "primary", "mode"], value="all", backup=True)
    assert open(result["backup_file"]).read() == CONFIG


def test_absent_removes_and_then_is_a_no_op(run, config):
    first = run(path=str(config), key_path=["agent", "primary", "mode"], state="absent")
    second = run(path=str(config), key_path=["agent", "primary", "mode"], state="absent")
    assert first["changed"] and first["before"] == "primary" and not second["changed"]
    assert '"primary": { "model": "local_orch/orch" }, // the orchestrator' in config.read_text()


def test_missing_fail_names_the_key_and_leaves_the_file(run, config):
    result = run(path=str(config), key_path=["agent", "reviewer", "model"], value="a/b", missing="fail")
    assert result["failed"]
    assert "agent.reviewer.model not found" in result["msg"] and '"reviewer"' in result["msg"]
    assert config.read_text() == CONFIG


@pytest.mark.parametrize("text,line,column", [
    ('{\n  "agent": { /* open\n}\n', 2, 14),
    ('{\n  "agent": {},\n  "agent": {}\n}\n', 3, 3),
    ('{\n  "agent": "primary"\n}\n', 2, 12),
])
def test_malformed_file_fails_with_place_and_stays_byte_for_byte(run, tmp_path, text, line, column):
    path = tmp_path / "broken.jsonc"
    path.write_bytes(text.encode())
    result = run(path=str(path), key_path=["agent", "primary", "model"], value="a/b")
    assert result["failed"]
    assert result["msg"].startswith("%s: line %d, column %d: " % (path, line, column))
    assert (result["line"], result["column"]) == (line, column)
    assert path.read_bytes() == text.encode()
    assert os.listdir(tmp_path) == ["broken.jsonc"]


def test_missing_file_fails(run, tmp_path):
    result = run(path=str(tmp_path / "nope.jsonc"), key_path=["a"], value=1)
    assert result["failed"] and result["msg"].endswith("nope.jsonc: no such file")


def test_file_mode_is_applied(run, config):
    result = run(path=str(config), key_path=["agent", "primary", "mode"], value="primary", mode="0600")
    assert result["changed"] and stat.S_IMODE(config.stat().st_mode) == 0o600


def test_edits_apply_in_order_with_one_write(run, config):
    result = run(path=str(config), edits=[
        {"key_path": ["agent", "primary", "model"], "value": "cloud_planner/gpt-5"},
        {"key_path": ["agent", "coder"], "value": {"mode": "subagent"}},
        {"key_path": ["agent", "coder", "model"], "value": "local_coder/coder"},
        {"key_path": ["agent", "primary", "mode"], "state": "absent"},
        {"key_path": ["agent", "reviewer"], "state": "absent"},
    ])
    assert result["changed"]
    assert [c["key_path"] for c in result["changes"]] == [
        ["agent", "primary", "model"], ["agent", "coder"], ["agent", "coder", "model"], ["agent", "primary", "mode"]]
    text = config.read_text()
    assert '"primary": {  "model": "cloud_planner/gpt-5" }, // the orchestrator' not in text
    assert '"primary": { "model": "cloud_planner/gpt-5" }, // the orchestrator' in text
    assert '"coder": {\n      "mode": "subagent",\n      "model": "local_coder/coder"\n    },' in text
    again = run(path=str(config), edits=[
        {"key_path": ["agent", "primary", "model"], "value": "cloud_planner/gpt-5"},
        {"key_path": ["agent", "coder", "model"], "value": "local_coder/coder"},
    ])
    assert not again["changed"] and again["changes"] == []


def test_a_failing_edit_writes_none_of_them(run, config):
    result = run(path=str(config), missing="fail", edits=[
        {"key_path": ["agent", "primary", "model"], "value": "cloud_planner/gpt-5"},
        {"key_path": ["agent", "nobody", "model"], "value": "x/y"},
    ])
    assert result["failed"] and result["key_path"] == ["agent", "nobody", "model"]
    assert config.read_text() == CONFIG


def test_key_path_and_edits_are_exclusive(run, config):
    result = run(path=str(config), key_path=["a"], value=1, edits=[{"key_path": ["b"], "value": 2}])
    assert result["failed"] and "mutually exclusive" in result["msg"]
