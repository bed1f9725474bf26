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
import json
import socket

from ansible.module_utils.basic import env_fallback
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
