# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One file from the Hugging Face Hub (or a mirror) onto the box: resumed from <dest>.part, received, written and
hashed by three threads, verified against the Hub's size and hash before it is renamed into place, and recorded
in a sidecar (.<name>.hf.json: sha256, size, mtime, commit) so that a later run with the file untouched reads
nothing. The protocol itself is hf_hub.py's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import threading
import time

from ansible.module_utils.six.moves import queue
from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import (
    CHUNK, POOL, PROGRESS_INTERVAL, HubError)


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
                if getattr(exc, "errno", None) == errno.ENOSPC:
                    # another writer took the space after the check above: nothing reaches the final name
                    raise HubError("%s: the disk filled up in %s at %d of %d bytes (%d bytes free now); free some "
                                   "space and run again to resume from %s (nothing is at %s)"
                                   % (self.what, directory, os.path.getsize(self.part), remote.size,
                                      self.free_space(directory), self.part, self.dest))
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
