# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Download files from the Hugging Face Hub (or a mirror) with resume, verification and no-op re-runs.

Speaks the Hub's resolve protocol directly with the standard library (a fresh Ubuntu box has no
huggingface_hub, and that client can no longer resume an interrupted download in a later run):

- HEAD {endpoint}/{repo}/resolve/{revision}/{file}, without following the redirect, gives the commit
  (X-Repo-Commit), the sha256 of an LFS file (X-Linked-Etag) and its size (X-Linked-Size), or for a small
  file its git blob sha1 (ETag) and size (Content-Length).
- GET with Range continues <dest>.part; redirects are followed, and the Authorization header is dropped
  when a redirect leaves the endpoint's host. A server that answers a Range request with 200 starts the
  file over.
- With a mirror (a plain HTTP server holding {mirror}/{repo}/{commit}/{file}), the bytes come from the mirror when
  it has the file at the Hub's commit, and from the Hub when it lacks it; the Hub's size and hash decide either way.
- The size and hash are checked before the file is renamed into place: the final path never holds a
  partial or unverified file. A sidecar (.<name>.hf.json) records sha256, size, mtime and commit, so a
  later run with the file untouched does one HEAD (or none, given the expected sha256) and reads nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import hashlib
import json
import os
import socket
import threading
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves import queue
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlparse
from ansible.module_utils.six.moves.urllib.request import (
    HTTPRedirectHandler, Request, build_opener)

CHUNK = 1024 * 1024
POOL = 16  # buffers of CHUNK bytes in flight between receiving, writing and hashing
# The options hf_download and hf_snapshot share (documented in the strix.opencode.hf_hub doc fragment).
HUB_ARGUMENT_SPEC = dict(
    repo_id=dict(type="str", required=True),
    revision=dict(type="str", default="main"),
    token=dict(type="str", no_log=True, fallback=(env_fallback, ["HF_TOKEN"])),
    endpoint=dict(type="str", fallback=(env_fallback, ["HF_ENDPOINT"])),
    mirror=dict(type="str"),
    timeout=dict(type="int", default=60),
    progress_file=dict(type="path"),
)
PROGRESS_INTERVAL = 1.0
DEFAULT_ENDPOINT = "https://huggingface.co"
ERROR_CODES = {
    "RepoNotFound": "repository not found (or private: a token with access is needed)",
    "RevisionNotFound": "revision not found",
    "EntryNotFound": "file not found in the repository",
}


class HubError(Exception):
    """A failure worth one line to the user; never holds the token. details go into the module result."""

    def __init__(self, message, **details):
        super(HubError, self).__init__(message)
        self.details = details


class RemoteFile:
    def __init__(self, url, commit, size, sha256=None, git_sha1=None):
        self.url = url
        self.commit = commit
        self.size = size
        self.sha256 = sha256
        self.git_sha1 = git_sha1

    @property
    def identity(self):
        """What identifies this version of the file: its sha256 (LFS) or git blob sha1."""
        return self.sha256 or self.git_sha1


def _strip_etag(value):
    if not value:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class _Redirect(HTTPRedirectHandler):
    """Follows redirects, dropping Authorization once a redirect leaves the endpoint's host."""

    def __init__(self, endpoint_netloc):
        self.endpoint_netloc = endpoint_netloc

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)
        if new is not None and urlparse(newurl).netloc != self.endpoint_netloc:
            for name in list(new.headers):
                if name.lower() == "authorization":
                    del new.headers[name]
        return new


class HubClient:
    @classmethod
    def from_params(cls, params):
        return cls(params["endpoint"] or DEFAULT_ENDPOINT, params["token"], params["timeout"], params.get("mirror"))

    def __init__(self, endpoint=None, token=None, timeout=60, mirror=None):
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.mirror = (mirror or "").rstrip("/") or None
        self.token = token or None
        self.timeout = timeout
        self.netloc = urlparse(self.endpoint).netloc
        self._head_opener = build_opener(_NoRedirect())
        self._get_opener = build_opener(_Redirect(self.netloc))

    def _headers(self, url, extra=None):
        """Request headers; the token only for the endpoint's own host."""
        headers = {"User-Agent": "strix.opencode-hf_download/0.1"}
        if self.token and urlparse(url).netloc == self.netloc:
            headers["Authorization"] = "Bearer %s" % self.token
        headers.update(extra or {})
        return headers

    def resolve_url(self, repo_id, revision, filename):
        return "%s/%s/resolve/%s/%s" % (self.endpoint, repo_id, quote(revision, safe=""), quote(filename))

    def _fail(self, what, exc):
        """Turn an HTTP or network error into a one-line HubError (never with the token)."""
        if isinstance(exc, HTTPError):
            code = exc.headers.get("X-Error-Code") if exc.headers else None
            if code == "GatedRepo":
                reason = ("gated repository: a token with access is needed (token or HF_TOKEN)" if not self.token
                          else "gated repository: the token has no access (accept the terms on the Hub?)")
            elif code in ERROR_CODES:
                reason = ERROR_CODES[code]
            elif exc.code in (401, 403):
                reason = "access denied (HTTP %d)" % exc.code
            elif exc.code == 404:
                reason = "not found (HTTP 404)"
            else:
                reason = "HTTP %d %s" % (exc.code, exc.reason)
            return HubError("%s: %s" % (what, reason))
        if isinstance(exc, (URLError, socket.timeout, socket.error)):
            reason = getattr(exc, "reason", exc)
            return HubError("%s: cannot reach %s: %s" % (what, self.endpoint, reason))
        return HubError("%s: %s" % (what, exc))

    def head(self, repo_id, revision, filename):
        what = "%s/%s@%s" % (repo_id, filename, revision)
        url = self.resolve_url(repo_id, revision, filename)
        request = Request(url, headers=self._headers(url, {"Accept-Encoding": "identity"}))
        request.get_method = lambda: "HEAD"
        try:
            response = self._head_opener.open(request, timeout=self.timeout)
            headers, location = response.headers, None
        except HTTPError as exc:
            if exc.code not in (301, 302, 303, 307, 308):
                raise self._fail(what, exc)
            headers, location = exc.headers, exc.headers.get("Location")
        except Exception as exc:  # URLError, timeouts, refused connections
            raise self._fail(what, exc)
        commit = headers.get("X-Repo-Commit")
        sha256 = _strip_etag(headers.get("X-Linked-Etag"))
        size = headers.get("X-Linked-Size") or headers.get("Content-Length")
        if size is None:
            raise HubError("%s: the server gave no size for the file" % what)
        if sha256 is not None and len(sha256) != 64:
            sha256 = None
        git_sha1 = None if sha256 else _strip_etag(headers.get("ETag"))
        if location and location.startswith("/"):
            location = "%s%s" % (self.endpoint, location)
        return RemoteFile(location or url, commit, int(size), sha256=sha256, git_sha1=git_sha1)

    def list_files(self, repo_id, revision):
        what = "%s@%s" % (repo_id, revision)
        url = "%s/api/models/%s/revision/%s" % (self.endpoint, repo_id, quote(revision, safe=""))
        try:
            response = self._get_opener.open(Request(url, headers=self._headers(url)), timeout=self.timeout)
            info = json.loads(response.read().decode("utf-8"))
        except HubError:
            raise
        except Exception as exc:
            raise self._fail(what, exc)
        return info.get("sha"), [s["rfilename"] for s in info.get("siblings", [])]

    def mirror_url(self, repo_id, commit, filename):
        return "%s/%s/%s/%s" % (self.mirror, repo_id, quote(commit, safe=""), quote(filename))

    def mirror_size(self, repo_id, commit, filename):
        """The size of the mirror's copy of a file at a commit, or None when the mirror lacks it (404)."""
        url = self.mirror_url(repo_id, commit, filename)
        what = "%s/%s@%s" % (repo_id, filename, commit)
        request = Request(url, headers=self._headers(url, {"Accept-Encoding": "identity"}))
        request.get_method = lambda: "HEAD"
        try:
            response = self._get_opener.open(request, timeout=self.timeout)
        except HTTPError as exc:
            if exc.code in (403, 404):
                return None
            raise HubError("%s: the mirror %s answered %d" % (what, self.mirror, exc.code))
        except Exception as exc:  # URLError, timeouts, refused connections
            raise HubError("%s: cannot reach the mirror %s: %s" % (what, self.mirror, getattr(exc, "reason", exc)))
        size = response.headers.get("Content-Length")
        return int(size) if size is not None else None

    def open(self, url, start):
        headers = {"Accept-Encoding": "identity"}
        if start:
            headers["Range"] = "bytes=%d-" % start
        return self._get_opener.open(Request(url, headers=self._headers(url, headers)), timeout=self.timeout)


class Progress:
    """Writes {path, done, total, rate, percent} to a JSON file at most once a second."""

    def __init__(self, path, target, total, done=0):
        self.path, self.target, self.total = path, target, total
        self.started, self.base, self.done, self.last = time.time(), done, done, 0.0

    def update(self, done, final=False):
        self.done = done
        now = time.time()
        if not self.path or (not final and now - self.last < PROGRESS_INTERVAL):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        record = {"path": self.target, "done": done, "total": self.total,
                  "percent": round(100.0 * done / self.total, 1) if self.total else 100.0,
                  "rate": int((done - self.base) / elapsed), "finished": final}
        tmp = "%s.tmp" % self.path
        with open(tmp, "w") as handle:
            json.dump(record, handle)
        os.rename(tmp, self.path)


def sidecar_path(dest):
    return os.path.join(os.path.dirname(dest), ".%s.hf.json" % os.path.basename(dest))


def read_json(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def write_json(path, data):
    tmp = "%s.tmp" % path
    with open(tmp, "w") as handle:
        json.dump(data, handle, sort_keys=True)
    os.rename(tmp, path)


def hash_file(path, size=None):
    """sha256 and git blob sha1 of a file (its first size bytes)."""
    size = os.path.getsize(path) if size is None else size
    digest, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as handle:
        left = size
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            digest.update(chunk)
            blob.update(chunk)
            left -= len(chunk)
    return digest, blob


class _Pipeline:
    """Receive, write, hash: three threads, each at its own stage, passing a pool of reusable buffers along.

    The receiving thread only reads the socket, so the connection is drained at the link's speed while the
    writing thread waits on the disk and the hashing thread on hashlib (all three release the GIL). No chunk
    is copied in Python; a buffer goes back to the pool once it has been written and hashed.
    """

    def __init__(self, handle, hashes, buffers=POOL, size=CHUNK):
        self.handle = handle
        self.hashes = [h for h in hashes if h is not None]
        self.free, self.to_write, self.to_hash = queue.Queue(), queue.Queue(), queue.Queue()
        for dummy in range(buffers):
            self.free.put(memoryview(bytearray(size)))
        self.error = None
        self.threads = [threading.Thread(target=self._write), threading.Thread(target=self._hash)]
        for thread in self.threads:
            thread.daemon = True
            thread.start()

    def _write(self):
        while True:
            item = self.to_write.get()
            if item is None:
                self.to_hash.put(None)
                return
            view, length = item
            if self.error is None:
                try:
                    written = 0
                    while written < length:
                        written += self.handle.write(view[written:length])
                except (IOError, OSError) as exc:
                    self.error = exc
            self.to_hash.put(item)

    def _hash(self):
        while True:
            item = self.to_hash.get()
            if item is None:
                return
            view, length = item
            for digest in self.hashes:
                digest.update(view[:length])
            self.free.put(view)

    def pump(self, response, progress, done):
        """Read response to its end into the pipeline; return the number of bytes read."""
        copied = 0
        while self.error is None:
            view = self.free.get()
            length = response.readinto(view)
            if not length:
                self.free.put(view)
                break
            self.to_write.put((view, length))
            copied += length
            progress.update(done + copied)
        return copied

    def finish(self):
        """Wait until every chunk read is written and hashed; raise the writing thread's error, if any."""
        self.to_write.put(None)
        for thread in self.threads:
            thread.join()
        if self.error is not None:
            raise self.error


class Fetch:
    """One file from the Hub to dest: decide, download (resuming), verify, rename, record."""

    def __init__(self, client, repo_id, filename, revision, dest, sha256=None, check_mode=False,
                 progress_file=None, free_space=None):
        self.client = client
        self.repo_id, self.filename, self.revision = repo_id, filename, revision
        self.dest = dest
        self.expected_sha256 = sha256.lower() if sha256 else None
        self.check_mode = check_mode
        self.progress_file = progress_file
        self.free_space = free_space or _free_space
        self.what = "%s/%s@%s" % (repo_id, filename, revision)
        self.part = dest + ".part"
        self.part_meta = dest + ".part.json"
        self.sidecar = sidecar_path(dest)

    def record(self):
        record = read_json(self.sidecar)
        if not record or [record.get(k) for k in ("repo_id", "filename", "revision")] != \
                [self.repo_id, self.filename, self.revision]:
            return None
        return record

    def run(self):
        """Return a result dict: changed, path, size, sha256, commit, bytes_transferred, seconds, before, after."""
        started = time.time()
        record = self.record()
        stat = os.stat(self.dest) if os.path.exists(self.dest) else None
        before = {"exists": stat is not None, "size": stat.st_size if stat else None,
                  "sha256": record.get("sha256") if record and stat else None}
        unchanged = (stat is not None and record is not None and record.get("size") == stat.st_size
                     and record.get("mtime_ns") == _mtime_ns(stat))

        if unchanged and self.expected_sha256 and record.get("sha256") == self.expected_sha256:
            return self._result(False, record, 0, started, before)

        remote = self.client.head(self.repo_id, self.revision, self.filename)
        if self.expected_sha256 and remote.sha256 and remote.sha256 != self.expected_sha256:
            raise HubError("%s: sha256 mismatch: expected %s, the Hub has %s"
                           % (self.what, self.expected_sha256, remote.sha256))
        if unchanged and record.get("identity") == remote.identity:
            return self._result(False, record, 0, started, before)

        if stat is not None and not unchanged:
            # The file is there but untracked or touched: check it before deciding.
            digest, blob = hash_file(self.dest)
            if self._matches(remote, stat.st_size, digest.hexdigest(), blob.hexdigest()):
                record = self._record(remote, digest.hexdigest(), self.dest)
                if not self.check_mode:
                    write_json(self.sidecar, record)
                before["sha256"] = record["sha256"]
                return self._result(False, record, 0, started, before)
            if self.check_mode:
                return self._would(remote, before, "%s does not match the Hub's file (size %d, sha256 %s): downloaded "
                                   "again" % (self.dest, remote.size, remote.identity))

        if self.check_mode:
            return self._would(remote, before, "not on the box" if stat is None else
                               "the Hub has another version (%s)" % remote.identity)
        return self._download(remote, started, before)

    def _would(self, remote, before, reason):
        """The check-mode result of a file a real run would download, with why and how many bytes."""
        kept = self._part_bytes(remote)
        if kept:
            reason += ", resuming after %d bytes" % kept
        after = {"exists": True, "size": remote.size, "sha256": remote.sha256}
        return {"changed": True, "path": self.dest, "size": remote.size, "sha256": remote.sha256,
                "commit": remote.commit, "bytes_transferred": 0, "seconds": 0.0,
                "would_download": remote.size - kept, "reason": reason, "before": before, "after": after}

    def _matches(self, remote, size, sha256, git_sha1):
        if size != remote.size:
            return False
        if self.expected_sha256 and sha256 != self.expected_sha256:
            return False
        if remote.sha256:
            return sha256 == remote.sha256
        return remote.git_sha1 is None or git_sha1 == remote.git_sha1

    def _record(self, remote, sha256, path):
        stat = os.stat(path)
        return {"repo_id": self.repo_id, "filename": self.filename, "revision": self.revision,
                "commit": remote.commit, "sha256": sha256, "identity": remote.identity,
                "size": stat.st_size, "mtime_ns": _mtime_ns(stat)}

    def _part_bytes(self, remote):
        """Bytes of an earlier, interrupted download of this same file version that can be kept."""
        meta = read_json(self.part_meta)
        if not os.path.exists(self.part) or not meta or meta.get("identity") != remote.identity:
            return 0
        size = os.path.getsize(self.part)
        return size if size <= remote.size else 0

    def _download(self, remote, started, before):
        directory = os.path.dirname(self.dest) or "."
        if not os.path.isdir(directory):
            os.makedirs(directory)
        start = self._part_bytes(remote)
        if start == 0:
            for stale in (self.part, self.part_meta):
                if os.path.exists(stale):
                    os.unlink(stale)
        needed = remote.size - start
        free = self.free_space(directory)
        if needed > free:
            raise HubError("%s: not enough disk space in %s: %d bytes needed, %d free"
                           % (self.what, directory, needed, free))
        write_json(self.part_meta, {"identity": remote.identity, "size": remote.size, "commit": remote.commit})
        url, source = self._source(remote)

        digest, blob = hash_file(self.part, start) if start else (
            hashlib.sha256(), hashlib.sha1(b"blob %d\0" % remote.size))
        transferred = 0
        progress = Progress(self.progress_file, self.dest, remote.size, start)
        if start < remote.size:
            try:
                response = self.client.open(url, start)
                if start and response.getcode() != 206:
                    # The server ignored the Range request: start over from its full answer.
                    start = 0
                    digest, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % remote.size)
                # The git blob sha1 only identifies small files; a large one is checked by its sha256.
                with open(self.part, "ab" if start else "wb", buffering=0) as handle:
                    pipeline = _Pipeline(handle, [digest, None if remote.sha256 else blob])
                    try:
                        transferred = pipeline.pump(response, progress, start)
                    finally:
                        pipeline.finish()
            except HubError:
                raise
            except Exception as exc:
                raise HubError("%s: download interrupted at %d of %d bytes (%s); run again to resume"
                               % (self.what, os.path.getsize(self.part), remote.size, getattr(exc, "reason", exc)))
        size = os.path.getsize(self.part)
        sha256 = digest.hexdigest()
        if size != remote.size:
            raise HubError("%s: download interrupted at %d of %d bytes (connection closed); run again to resume"
                           % (self.what, size, remote.size))
        if not self._matches(remote, size, sha256, blob.hexdigest()):
            os.unlink(self.part)
            os.unlink(self.part_meta)
            if source == "mirror":
                raise HubError("%s: the mirror %s served a file that is not the Hub's (sha256 %s, expected %s); the "
                               "partial file was removed: repair or empty the mirror's copy (%s)"
                               % (self.what, self.client.mirror, sha256, self.expected_sha256 or remote.identity, url))
            raise HubError("%s: sha256 mismatch: got %s, expected %s; the partial file was removed"
                           % (self.what, sha256, self.expected_sha256 or remote.identity))
        os.rename(self.part, self.dest)
        os.unlink(self.part_meta)
        record = self._record(remote, sha256, self.dest)
        write_json(self.sidecar, record)
        progress.update(remote.size, final=True)
        result = self._result(True, record, transferred, started, before)
        result["source"] = source
        return result

    def _source(self, remote):
        """Where the bytes come from: the mirror when it has the file at the Hub's commit (same size), else the Hub.
        The size and sha256 are the Hub's either way, so a wrong copy on the mirror is caught before the rename."""
        if not self.client.mirror:
            return remote.url, "upstream"
        commit = remote.commit or self.revision
        size = self.client.mirror_size(self.repo_id, commit, self.filename)
        if size is None:
            return remote.url, "upstream (the mirror lacks it)"
        if size != remote.size:
            raise HubError("%s: the mirror %s has %d bytes of it, the Hub %d: the mirror's copy is not this file; "
                           "repair or empty it (%s)" % (self.what, self.client.mirror, size, remote.size,
                                                        self.client.mirror_url(self.repo_id, commit, self.filename)))
        return self.client.mirror_url(self.repo_id, commit, self.filename), "mirror"

    def _result(self, changed, record, transferred, started, before):
        return {"changed": changed, "path": self.dest, "size": record["size"], "sha256": record["sha256"],
                "commit": record.get("commit"), "bytes_transferred": transferred, "source": None,
                "seconds": round(time.time() - started, 3), "before": before,
                "after": {"exists": True, "size": record["size"], "sha256": record["sha256"]}}


def _mtime_ns(stat):
    return getattr(stat, "st_mtime_ns", int(stat.st_mtime * 1e9))


def _free_space(directory):
    info = os.statvfs(directory)
    return info.f_bavail * info.f_frsize


def select_files(names, allow_patterns=None, ignore_patterns=None):
    """The repository files to fetch: matching any allow pattern (all when none), and no ignore pattern."""
    chosen = []
    for name in names:
        if allow_patterns and not any(fnmatch.fnmatch(name, p) for p in allow_patterns):
            continue
        if ignore_patterns and any(fnmatch.fnmatch(name, p) for p in ignore_patterns):
            continue
        chosen.append(name)
    return chosen


def diff_summary(before, after):
    def text(state):
        if not state.get("exists"):
            return "absent\n"
        return "size: %s\nsha256: %s\n" % (state.get("size"), state.get("sha256") or "unknown")
    return {"before": text(before), "after": text(after)}
