"""hf_download against the Hub stand-in: resume, restart, verification, no-op re-runs, errors."""
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import Fetch, HubClient, HubError
from ansible_collections.strix.opencode.plugins.modules import hf_download

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
from hf_hub_standin import HubStandin, StandinRepo  # noqa: E402  pylint: disable=wrong-import-position

BIG = os.urandom(3 * 1024 * 1024 + 12345)       # served as an LFS file, through the "CDN" host
SMALL = b'{"architectures": ["Qwen2ForCausalLM"]}\n'  # served directly, identified by its git blob sha1
TOKEN = "hf_standin_secret_token"


@pytest.fixture
def hub():
    repos = {
        "org/model-GGUF": StandinRepo({"model.Q4_K_M.gguf": BIG, "config.json": SMALL}),
        "org/gated": StandinRepo({"weights.gguf": BIG}, gated=True),
    }
    with HubStandin(repos, token=TOKEN) as server:
        yield server


@pytest.fixture
def run(run_module):
    return lambda **args: run_module(hf_download, **args)


@pytest.fixture
def download(run, hub):
    def fetch(dest, **extra):
        args = dict(repo_id="org/model-GGUF", filename="model.Q4_K_M.gguf", dest=str(dest), endpoint=hub.url)
        args.update(extra)
        return run(**args)
    return fetch


def test_downloads_verifies_and_records(download, hub, tmp_path):
    result = download(tmp_path)
    target = tmp_path / "model.Q4_K_M.gguf"
    assert result["changed"] and result["path"] == str(target)
    assert target.read_bytes() == BIG
    assert result["sha256"] == hashlib.sha256(BIG).hexdigest() and result["size"] == len(BIG)
    assert result["bytes_transferred"] == len(BIG)
    assert result["commit"] == hub.repos["org/model-GGUF"].commit
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.Q4_K_M.gguf.hf.json", "model.Q4_K_M.gguf"]


def test_small_file_is_checked_by_its_git_blob_sha1(download, hub, tmp_path):
    result = download(tmp_path / "cfg.json", filename="config.json")
    assert result["changed"] and (tmp_path / "cfg.json").read_bytes() == SMALL


def test_rerun_makes_one_head_and_reads_nothing(download, hub, tmp_path, monkeypatch):
    download(tmp_path)
    hub.requests.clear()
    monkeypatch.setattr("ansible_collections.strix.opencode.plugins.module_utils.hf_hub.hash_file",
                        lambda *a: pytest.fail("the file was read again"))
    result = download(tmp_path)
    assert not result["changed"] and result["bytes_transferred"] == 0
    assert [r[0] for r in hub.requests] == ["HEAD"]


def test_rerun_with_known_sha256_makes_no_request(download, hub, tmp_path):
    digest = hashlib.sha256(BIG).hexdigest()
    download(tmp_path, sha256=digest)
    hub.requests.clear()
    result = download(tmp_path, sha256=digest)
    assert not result["changed"] and hub.requests == []


def test_dropped_connection_resumes_from_the_part_file(download, hub, tmp_path):
    hub.drop_after, hub.drops = len(BIG) // 2, 1
    first = download(tmp_path)
    assert first["failed"] and "download interrupted" in first["msg"] and "run again to resume" in first["msg"]
    assert not (tmp_path / "model.Q4_K_M.gguf").exists()
    kept = (tmp_path / "model.Q4_K_M.gguf.part").stat().st_size
    assert 0 < kept <= len(BIG) // 2
    checked = download(tmp_path, _ansible_check_mode=True)
    assert checked["would_download"] == len(BIG) - kept
    assert checked["reason"] == "not on the box, resuming after %d bytes" % kept

    second = download(tmp_path)
    assert second["changed"] and second["bytes_transferred"] == len(BIG) - kept
    assert (tmp_path / "model.Q4_K_M.gguf").read_bytes() == BIG
    assert [r[2].get("Range") for r in hub.requests if r[0] == "GET"][-1] == "bytes=%d-" % kept


def test_server_ignoring_range_starts_the_file_over(download, hub, tmp_path):
    hub.drop_after, hub.drops = len(BIG) // 3, 1
    download(tmp_path)
    hub.ignore_range = True
    result = download(tmp_path)
    assert result["changed"] and result["bytes_transferred"] == len(BIG)
    assert (tmp_path / "model.Q4_K_M.gguf").read_bytes() == BIG


def test_tampered_file_is_downloaded_again_and_check_mode_says_why(download, hub, tmp_path):
    download(tmp_path)
    target = tmp_path / "model.Q4_K_M.gguf"
    target.write_bytes(b"x" * len(BIG))
    checked = download(tmp_path, _ansible_check_mode=True)
    assert not checked.get("failed") and checked["changed"]
    assert checked["would_download"] == len(BIG) and "does not match the Hub's file" in checked["reason"]
    assert target.read_bytes() == b"x" * len(BIG)
    result = download(tmp_path)
    assert result["changed"] and target.read_bytes() == BIG


def test_touched_but_intact_file_is_rehashed_not_downloaded(download, hub, tmp_path):
    download(tmp_path)
    os.utime(tmp_path / "model.Q4_K_M.gguf", (1, 1))
    hub.requests.clear()
    result = download(tmp_path)
    assert not result["changed"] and hub.count("GET") == 0


def test_check_mode_reports_the_size_and_writes_nothing(download, hub, tmp_path):
    result = download(tmp_path, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] and result["would_download"] == len(BIG) and result["reason"] == "not on the box"
    assert result["diff"] == {"before": "absent\n",
                              "after": "size: %d\nsha256: %s\n" % (len(BIG), hashlib.sha256(BIG).hexdigest())}
    assert list(tmp_path.iterdir()) == []


def test_the_token_stays_on_the_endpoint_host(download, hub, tmp_path):
    result = download(tmp_path, repo_id="org/gated", filename="weights.gguf", token=TOKEN)
    assert result["changed"]
    resolve = [r for r in hub.requests if "/resolve/" in r[1]]
    assert all(r[2].get("Authorization") == "Bearer " + TOKEN for r in resolve)
    assert not hub.cdn_saw_authorization


@pytest.mark.parametrize("args,reason", [
    ({"repo_id": "org/nope"}, "org/nope/model.Q4_K_M.gguf@main: repository not found"),
    ({"filename": "missing.gguf"}, "org/model-GGUF/missing.gguf@main: file not found in the repository"),
    ({"revision": "v9"}, "org/model-GGUF/model.Q4_K_M.gguf@v9: revision not found"),
    ({"repo_id": "org/gated", "filename": "weights.gguf"},
     "org/gated/weights.gguf@main: gated repository: a token with access is needed"),
    ({"repo_id": "org/gated", "filename": "weights.gguf", "token": "hf_wrong_" + TOKEN},
     "org/gated/weights.gguf@main: gated repository: the token has no access"),
    ({"sha256": "0" * 64}, "org/model-GGUF/model.Q4_K_M.gguf@main: sha256 mismatch: expected 000"),
])
def test_errors_are_one_line_naming_repo_file_and_revision(download, hub, tmp_path, args, reason):
    result = download(tmp_path, **args)
    assert result["failed"] and result["msg"].startswith(reason)
    assert "\n" not in result["msg"] and TOKEN not in json.dumps(result)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_endpoint(run, tmp_path):
    result = run(repo_id="org/m", filename="f.gguf", dest=str(tmp_path), endpoint="http://127.0.0.1:9")
    assert result["failed"] and result["msg"].startswith("org/m/f.gguf@main: cannot reach http://127.0.0.1:9")


def test_disk_too_small_fails_before_downloading(hub, tmp_path):
    fetch = Fetch(HubClient(hub.url), "org/model-GGUF", "model.Q4_K_M.gguf", "main", str(tmp_path / "m.gguf"),
                  free_space=lambda directory: 1000)
    with pytest.raises(HubError, match=r"not enough disk space in .*: %d bytes needed, 1000 free" % len(BIG)):
        fetch.run()
    assert hub.count("GET") == 0 and list(tmp_path.iterdir()) == []


def test_corrupt_download_is_removed(download, hub, tmp_path, monkeypatch):
    original = hub.repos["org/model-GGUF"].files["model.Q4_K_M.gguf"]
    monkeypatch.setattr(original, "data", os.urandom(len(BIG)))  # the CDN now serves other bytes
    result = download(tmp_path)
    assert result["failed"] and "sha256 mismatch: got" in result["msg"] and "partial file was removed" in result["msg"]
    assert list(tmp_path.iterdir()) == []


def test_progress_file_ends_finished(download, hub, tmp_path):
    progress = tmp_path / "progress.json"
    download(tmp_path / "m.gguf", progress_file=str(progress))
    record = json.loads(progress.read_text())
    assert record["finished"] and record["done"] == record["total"] == len(BIG) and record["percent"] == 100.0
