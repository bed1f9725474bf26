"""The api_key module: a generated or given key in root-only files, kept across runs, never in its result."""
import json
import stat

import pytest

from ansible_collections.strix.opencode.plugins.modules import api_key

GIVEN = "vault-key-0123456789abcdef"


@pytest.fixture
def run(run_module):
    return lambda **args: run_module(api_key, **args)


@pytest.fixture
def files(tmp_path):
    directory = tmp_path / "etc" / "strix-opencode"
    return directory / "api-key", directory / "api-key.env"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_generates_a_key_into_root_only_files(run, files):
    key_file, env_file = files
    result = run(path=str(key_file), env_file=str(env_file))
    assert not result.get("failed") and result["changed"] and result["generated"]
    key = key_file.read_text().strip()
    assert len(key) >= 43 and api_key.KEY_PATTERN.match(key)
    assert env_file.read_text() == "LLAMA_API_KEY=%s\nVLLM_API_KEY=%s\n" % (key, key)
    assert mode(key_file) == 0o600 and mode(env_file) == 0o600 and mode(key_file.parent) == 0o700
    assert key not in json.dumps(result)


def test_second_run_keeps_the_key_and_changes_nothing(run, files):
    key_file, env_file = files
    run(path=str(key_file), env_file=str(env_file))
    key, mtime = key_file.read_text(), key_file.stat().st_mtime_ns
    result = run(path=str(key_file), env_file=str(env_file))
    assert not result.get("failed") and not result["changed"] and not result["generated"]
    assert key_file.read_text() == key and key_file.stat().st_mtime_ns == mtime


def test_each_box_gets_its_own_key(run, tmp_path):
    first, second = tmp_path / "a" / "key", tmp_path / "b" / "key"
    run(path=str(first))
    run(path=str(second))
    assert first.read_text() != second.read_text()


def test_a_given_key_replaces_the_generated_one(run, files):
    key_file, env_file = files
    run(path=str(key_file), env_file=str(env_file))
    result = run(path=str(key_file), env_file=str(env_file), key=GIVEN)
    assert not result.get("failed") and result["changed"] and not result["generated"]
    assert key_file.read_text() == GIVEN + "\n" and "VLLM_API_KEY=%s\n" % GIVEN in env_file.read_text()
    assert GIVEN not in json.dumps(result)
    assert not run(path=str(key_file), env_file=str(env_file), key=GIVEN)["changed"]


def test_a_file_readable_by_others_is_made_root_only(run, files):
    key_file, env_file = files
    run(path=str(key_file), env_file=str(env_file))
    key_file.chmod(0o644)
    result = run(path=str(key_file), env_file=str(env_file))
    assert result["changed"] and result["written"] == ["%s: made root-only (it was readable by others)" % key_file]
    assert mode(key_file) == 0o600


def test_check_mode_writes_nothing_and_diff_never_shows_the_key(run, files):
    key_file, env_file = files
    result = run(path=str(key_file), env_file=str(env_file), key=GIVEN, _ansible_check_mode=True, _ansible_diff=True)
    assert not result.get("failed") and result["changed"]
    assert not key_file.exists() and not env_file.exists()
    assert "written (there was none)" in result["diff"]["after"] and GIVEN not in json.dumps(result)


def test_a_short_or_spaced_key_is_refused_without_showing_it(run, files):
    key_file, _env_file = files
    for bad in ("short", "has a space in it 0123456789", 'quote"0123456789abcdef'):
        result = run(path=str(key_file), key=bad)
        assert result.get("failed") and "at least 16 printable characters" in result["msg"]
        assert bad not in json.dumps(result)
    assert not key_file.exists()


def test_a_directory_at_the_path_is_refused(run, tmp_path):
    result = run(path=str(tmp_path))
    assert result.get("failed") and "is a directory" in result["msg"]
