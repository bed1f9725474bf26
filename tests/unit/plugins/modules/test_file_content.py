"""The file_content module: one run per file, check and diff mode, force, atomic writes, clear errors."""
import os
import stat

import pytest

from ansible_collections.strix.opencode.plugins.modules import file_content

UNIT = "[Unit]\nDescription=tier orch\n"


@pytest.fixture
def run(run_module):
    return lambda **args: run_module(file_content, **args)


def test_writes_a_new_file_with_its_mode(run, tmp_path):
    path = tmp_path / "tier.service"
    result = run(path=str(path), content=UNIT, mode="0640")
    assert not result.get("failed") and result["changed"] and result["content_changed"]
    assert result["existed"] is False
    assert path.read_bytes() == UNIT.encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_second_run_changes_nothing_and_leaves_the_file_untouched(run, tmp_path):
    path = tmp_path / "tier.service"
    run(path=str(path), content=UNIT, mode="0644")
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns
    result = run(path=str(path), content=UNIT, mode="0644")
    assert not result.get("failed") and not result["changed"] and not result["content_changed"]
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime)


def test_a_different_text_replaces_the_file_by_a_rename(run, tmp_path):
    path = tmp_path / "tier.service"
    path.write_text("old\n")
    path.chmod(0o600)
    inode = path.stat().st_ino
    result = run(path=str(path), content=UNIT)
    assert result["changed"] and result["content_changed"] and result["existed"]
    assert path.read_text() == UNIT
    assert path.stat().st_ino != inode  # a new file took the name: no reader saw half of it
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # no mode given: the old file's is kept
    assert [p.name for p in tmp_path.iterdir()] == ["tier.service"]  # no temporary file left


def test_only_the_mode_differs(run, tmp_path):
    path = tmp_path / "tier.service"
    path.write_text(UNIT)
    path.chmod(0o600)
    result = run(path=str(path), content=UNIT, mode="0644", _ansible_diff=True)
    assert result["changed"] and not result["content_changed"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert result["diff"][1] == {"before": {"mode": "0600"}, "after": {"mode": "0644"}}


def test_check_mode_reports_and_shows_the_diff_without_writing(run, tmp_path):
    path = tmp_path / "tier.service"
    path.write_text("old\n")
    result = run(path=str(path), content=UNIT, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] and result["content_changed"]
    assert result["diff"][0]["before"] == "old\n" and result["diff"][0]["after"] == UNIT
    assert path.read_text() == "old\n"


def test_check_mode_for_a_new_file_writes_nothing(run, tmp_path):
    path = tmp_path / "tier.service"
    result = run(path=str(path), content=UNIT, mode="0644", _ansible_check_mode=True)
    assert result["changed"] and not path.exists()


def test_check_mode_in_a_directory_an_earlier_task_would_make(run, tmp_path):
    path = tmp_path / "not-yet" / "tier.service"
    result = run(path=str(path), content=UNIT, _ansible_check_mode=True)
    assert not result.get("failed") and result["changed"]
    assert not path.parent.exists()


def test_force_false_leaves_an_existing_file_alone(run, tmp_path):
    path = tmp_path / "opencode.jsonc"
    path.write_text("{ // the user's own\n}\n")
    path.chmod(0o600)
    result = run(path=str(path), content="{}\n", force=False, mode="0644")
    assert not result.get("failed") and not result["changed"] and result["existed"]
    assert path.read_text() == "{ // the user's own\n}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_force_false_writes_a_missing_file(run, tmp_path):
    path = tmp_path / "opencode.jsonc"
    result = run(path=str(path), content="{}\n", force=False)
    assert result["changed"] and path.read_text() == "{}\n"


def test_the_text_is_written_byte_for_byte(run, tmp_path):
    path = tmp_path / "strix-tier"
    text = "#!/bin/sh\n# é, no final newline"
    run(path=str(path), content=text)
    assert path.read_bytes() == text.encode("utf-8")


def test_a_missing_directory_fails_naming_it(run, tmp_path):
    path = tmp_path / "missing" / "tier.service"
    result = run(path=str(path), content=UNIT)
    assert result["failed"] and str(tmp_path / "missing") in result["msg"] and "does not exist" in result["msg"]
    assert not path.parent.exists()


def test_a_directory_at_the_path_fails_and_stays(run, tmp_path):
    result = run(path=str(tmp_path), content=UNIT)
    assert result["failed"] and "is a directory" in result["msg"]
    assert os.path.isdir(tmp_path)


def test_a_new_file_is_never_wider_than_its_owner_alone_before_its_mode(run, tmp_path, monkeypatch):
    seen = []
    real_rename = os.rename

    def rename(src, dst):
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_rename(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    path = tmp_path / "key"
    run(path=str(path), content="secret", mode="0640")
    assert seen == [0o600] and stat.S_IMODE(path.stat().st_mode) == 0o640
