"""hf_download against the Hub stand-in: resume, restart, verification, no-op re-runs, errors."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.strix.opencode.plugins.module_utils.hf_fetch import Fetch
from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import HubClient, HubError
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
    monkeypatch.setattr("ansible_collections.strix.opencode.plugins.module_utils.hf_fetch.hash_file",
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


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MiB filesystem (tmpfs; the tests run as root): smaller than the file."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def test_a_disk_that_fills_up_fails_with_the_free_space_and_the_next_run_resumes(hub, small_disk):
    dest = small_disk / "m.gguf"

    def fetch():
        # the space checked before the download is there, then another writer takes it: the disk fills up
        return Fetch(HubClient(hub.url), "org/model-GGUF", "model.Q4_K_M.gguf", "main", str(dest),
                     free_space=lambda directory: 1 << 40).run()

    with pytest.raises(HubError, match=r"the disk filled up in %s at \d+ of %d bytes \(\d+ bytes free now\); free some "
                       r"space and run again to resume" % (small_disk, len(BIG))):
        fetch()
    assert not dest.exists() and (small_disk / "m.gguf.part").stat().st_size > 0
    kept = (small_disk / "m.gguf.part").stat().st_size
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    result = fetch()
    assert dest.read_bytes() == BIG and result["bytes_transferred"] == len(BIG) - kept


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


class Mirror:
    """A static file server over a directory, with HEAD and Range, counting the body bytes it sends and the
    Authorization headers it sees: the protocol the mirror role's nginx speaks, in-process for unit tests."""

    def __init__(self, root):
        import threading  # pylint: disable=import-outside-toplevel
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # pylint: disable=import-outside-toplevel
        mirror = self
        self.root, self.sent, self.authorization = root, 0, []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.serve(head=True)

            def do_GET(self):
                self.serve(head=False)

            def serve(self, head):
                mirror.authorization.append(self.headers.get("Authorization"))
                path = mirror.root / self.path.lstrip("/")
                if not path.is_file():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = path.read_bytes()
                start = int(self.headers["Range"][6:].rstrip("-")) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                if not head:
                    self.wfile.write(data[start:])
                    mirror.sent += len(data) - start

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, repo_id, commit, filename, data):
        path = self.root / repo_id / commit / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def mirror(tmp_path):
    (tmp_path / "box").mkdir()
    server = Mirror(tmp_path / "mirror")
    yield server
    server.server.shutdown()


def test_the_bytes_come_from_the_mirror_when_it_has_the_file(download, hub, mirror, tmp_path):
    mirror.put("org/model-GGUF", hub.repos["org/model-GGUF"].commit, "model.Q4_K_M.gguf", BIG)
    result = download(tmp_path / "box", mirror=mirror.url, token=TOKEN)
    assert not result.get("failed") and result["source"] == "mirror"
    assert (tmp_path / "box" / "model.Q4_K_M.gguf").read_bytes() == BIG and result["bytes_transferred"] == len(BIG)
    assert mirror.sent == len(BIG) and hub.count("GET", "/cdn/") == 0  # the Hub answered one HEAD, no bytes
    assert set(mirror.authorization) == {None}  # the Hub token never reaches the mirror


def test_a_file_the_mirror_lacks_comes_from_the_hub(download, hub, mirror, tmp_path):
    result = download(tmp_path / "box", mirror=mirror.url)
    assert not result.get("failed") and result["source"] == "upstream (the mirror lacks it)"
    assert (tmp_path / "box" / "model.Q4_K_M.gguf").read_bytes() == BIG
    assert mirror.sent == 0 and hub.count("GET", "/cdn/") == 1


def test_a_bad_copy_on_the_mirror_is_caught_and_never_takes_the_final_name(download, hub, mirror, tmp_path):
    commit = hub.repos["org/model-GGUF"].commit
    mirror.put("org/model-GGUF", commit, "model.Q4_K_M.gguf", b"x" + BIG[1:])
    result = download(tmp_path / "box", mirror=mirror.url)
    assert result.get("failed") and "the mirror %s served a file that is not the Hub's" % mirror.url in result["msg"]
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == []
    mirror.put("org/model-GGUF", commit, "model.Q4_K_M.gguf", BIG[:-1])
    result = download(tmp_path / "box", mirror=mirror.url)
    assert result.get("failed") and "the mirror %s has %d bytes of it, the Hub %d" % (
        mirror.url, len(BIG) - 1, len(BIG)) in result["msg"]


def test_an_interrupted_download_from_the_mirror_resumes_from_it(download, hub, mirror, tmp_path):
    mirror.put("org/model-GGUF", hub.repos["org/model-GGUF"].commit, "model.Q4_K_M.gguf", BIG)
    hub.drop_after, hub.drops = 1024 * 1024, 1
    first = download(tmp_path / "box")  # from the Hub, dropped after 1 MiB
    assert first.get("failed") and "run again to resume" in first["msg"]
    result = download(tmp_path / "box", mirror=mirror.url)
    assert not result.get("failed") and result["source"] == "mirror"
    assert mirror.sent == len(BIG) - 1024 * 1024 and (tmp_path / "box" / "model.Q4_K_M.gguf").read_bytes() == BIG
