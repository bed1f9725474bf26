"""hf_snapshot: a whole repository at a commit, filtered by patterns, each file with hf_download's rules."""
import os
import sys
from pathlib import Path

import pytest

from ansible_collections.strix.opencode.plugins.modules import hf_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
from hf_hub_standin import HubStandin, StandinRepo  # noqa: E402  pylint: disable=wrong-import-position

FILES = {
    "model-00001-of-00002.safetensors": os.urandom(1024 * 1024 + 1),
    "model-00002-of-00002.safetensors": os.urandom(1024 * 1024 + 2),
    "config.json": b'{"model_type": "qwen2"}',
    "tokenizer.json": b'{"version": "1.0"}',
    "original/consolidated.pth": os.urandom(1024 * 1024),
    "README.md": b"# model\n",
}


@pytest.fixture
def hub():
    with HubStandin({"org/weights": StandinRepo(FILES)}) as server:
        yield server


@pytest.fixture
def run(run_module, hub, tmp_path):
    base = dict(repo_id="org/weights", local_dir=str(tmp_path / "w"), endpoint=hub.url,
                allow_patterns=["*.safetensors", "*.json"], ignore_patterns=["original/*"])
    return lambda **args: run_module(hf_snapshot, **{**base, **args})


def test_fetches_the_selected_files_then_nothing(run, hub, tmp_path):
    first = run()
    assert first["changed"] and first["files_fetched"] == 4
    assert sorted(f["name"] for f in first["files"]) == [
        "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "tokenizer.json"]
    for name in ("model-00001-of-00002.safetensors", "config.json"):
        assert (tmp_path / "w" / name).read_bytes() == FILES[name]
    assert not (tmp_path / "w" / "original").exists() and not (tmp_path / "w" / "README.md").exists()
    hub.requests.clear()
    second = run()
    assert not second["changed"] and second["bytes_transferred"] == 0 and hub.count("GET", "/cdn/") == 0


def test_check_mode_counts_the_bytes(run, hub, tmp_path):
    result = run(_ansible_check_mode=True)
    expected = sum(len(FILES[n]) for n in FILES if n.endswith((".safetensors", ".json")))
    assert result["changed"] and result["would_download"] == expected
    assert not (tmp_path / "w").exists()


def test_files_are_pinned_to_the_listed_commit(run, hub, tmp_path):
    run()
    commit = hub.repos["org/weights"].commit
    resolved = [r[1] for r in hub.requests if "/resolve/" in r[1]]
    assert resolved and all("/resolve/%s/" % commit in path for path in resolved)


def test_nothing_selected_fails(run, hub, tmp_path):
    result = run(allow_patterns=["*.bin"])
    assert result["failed"] and "no file matches" in result["msg"]
