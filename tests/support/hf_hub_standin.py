"""Stand-in for the Hugging Face Hub's file endpoints, for tests and benchmarks (the Hub is not reachable).

It speaks the protocol the real huggingface_hub client and strix.opencode's hf_download module use:

    HEAD/GET /{repo}/resolve/{revision}/{path}
        X-Repo-Commit; for large (LFS) files a 302 to a "CDN" URL on another host name with X-Linked-Etag
        (the sha256) and X-Linked-Size; for small files 200 with ETag (the git blob sha1) and Content-Length.
        Errors carry X-Error-Code: RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound.
    GET /api/models/{repo}/revision/{revision}
        {"sha": commit, "siblings": [{"rfilename": path}, ...]}
    GET /cdn/{sha256}
        The content, with Range / 206. Records whether an Authorization header reached it.

    GET /_standin/stats
        {"body_bytes": N, "gets": N}: what left the stand-in so far (a fleet test counts upstream bytes with it).

Switches for failure tests: drop_after (close the connection after N bytes of a body, `drops` times),
ignore_range (answer a Range request with 200 and the whole body). For benchmarks: rate (bytes per second
of each body, paced like a network link of that speed; None: as fast as the machine goes).

Run it alone:  python tests/support/hf_hub_standin.py --port 8090 --file org/repo:model.gguf=/path/model.gguf
"""
import argparse
import hashlib
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LFS_THRESHOLD = 1024 * 1024  # files at least this big are served as LFS files, through the "CDN"
CHUNK = 1024 * 1024


class StandinFile:
    def __init__(self, source):
        self.path = Path(source) if not isinstance(source, bytes) else None
        self.data = source if isinstance(source, bytes) else None
        self.size = len(self.data) if self.data is not None else self.path.stat().st_size
        digest, blob = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % self.size)
        for chunk in self.chunks(0, self.size):
            digest.update(chunk)
            blob.update(chunk)
        self.sha256 = digest.hexdigest()
        self.git_sha1 = blob.hexdigest()

    @property
    def lfs(self):
        return self.size >= LFS_THRESHOLD

    def chunks(self, start, end):
        if self.data is not None:
            for offset in range(start, end, CHUNK):
                yield self.data[offset:min(offset + CHUNK, end)]
            return
        with open(self.path, "rb") as handle:
            handle.seek(start)
            left = end - start
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk


class StandinRepo:
    def __init__(self, files, gated=False, revisions=None):
        self.files = {name: StandinFile(source) for name, source in files.items()}
        self.gated = gated
        self.commit = hashlib.sha1(json.dumps(sorted((n, f.sha256) for n, f in self.files.items())).encode()).hexdigest()
        self.revisions = dict(revisions or {}, main=self.commit)


class HubStandin:
    """The server. repos maps "org/name" to StandinRepo; token is the one token a gated repo accepts."""

    def __init__(self, repos, token="hf_standin_token", host="127.0.0.1", port=0):
        self.repos = repos
        self.token = token
        self.drop_after = None
        self.drops = 0
        self.ignore_range = False
        self.rate = None
        self.requests = []
        self.cdn_saw_authorization = False
        self.body_bytes = 0  # body bytes sent, all files: what left "the Hub"
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        # Another host name for the same server, so a redirect to it leaves the endpoint's host.
        self.cdn_url = "http://localhost:%d" % self.port
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def count(self, method, path_part=""):
        return len([r for r in self.requests if r[0] == method and path_part in r[1]])

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.route(head=True)

            def do_GET(self):
                self.route(head=False)

            def route(self, head):
                hub.requests.append((self.command, self.path, dict(self.headers)))
                match = re.match(r"^/api/models/([^/]+/[^/]+)/revision/([^/]+)$", self.path)
                if match and not head:
                    return self.api_info(*match.groups())
                match = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", self.path)
                if match:
                    return self.resolve(head, *match.groups())
                if self.path == "/_standin/stats" and not head:
                    body = json.dumps({"body_bytes": hub.body_bytes,
                                       "gets": len([r for r in hub.requests if r[0] == "GET"])}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return None
                match = re.match(r"^/cdn/([0-9a-f]{64})$", self.path)
                if match:
                    return self.cdn(head, match.group(1))
                self.error(404, "EntryNotFound")

            def error(self, status, code, message="error"):
                body = json.dumps({"error": message}).encode()
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def repo(self, repo_id, revision):
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self.error(404, "RepoNotFound", "Repository not found")
                    return None
                if repo.gated:
                    auth = self.headers.get("Authorization")
                    if auth is None:
                        self.error(401, "GatedRepo", "Access to this gated repo is restricted")
                        return None
                    if auth != "Bearer %s" % hub.token:
                        self.error(403, "GatedRepo", "Access to this gated repo is restricted")
                        return None
                if revision not in repo.revisions and revision != repo.commit:
                    self.error(404, "RevisionNotFound", "Invalid rev id")
                    return None
                return repo

            def api_info(self, repo_id, revision):
                repo = self.repo(repo_id, revision)
                if repo is None:
                    return
                body = json.dumps({"id": repo_id, "sha": repo.commit,
                                   "siblings": [{"rfilename": name} for name in sorted(repo.files)]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def resolve(self, head, repo_id, revision, name):
                repo = self.repo(repo_id, revision)
                if repo is None:
                    return
                item = repo.files.get(name)
                if item is None:
                    return self.error(404, "EntryNotFound", "Entry not found")
                if item.lfs:
                    self.send_response(302)
                    self.send_header("Location", "%s/cdn/%s" % (hub.cdn_url, item.sha256))
                    self.send_header("X-Repo-Commit", repo.commit)
                    self.send_header("X-Linked-Etag", '"%s"' % item.sha256)
                    self.send_header("X-Linked-Size", str(item.size))
                    self.send_header("ETag", '"%s"' % item.sha256)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_body(head, item, extra={"X-Repo-Commit": repo.commit, "ETag": '"%s"' % item.git_sha1})

            def cdn(self, head, sha256):
                if self.headers.get("Authorization"):
                    hub.cdn_saw_authorization = True
                for repo in hub.repos.values():
                    for item in repo.files.values():
                        if item.sha256 == sha256:
                            return self.send_body(head, item, extra={"ETag": '"%s"' % sha256})
                self.error(404, "EntryNotFound")

            def send_body(self, head, item, extra):
                start, end = 0, item.size
                ranged = self.headers.get("Range")
                match = re.match(r"^bytes=(\d+)-(\d*)$", ranged or "")
                if match and not hub.ignore_range:
                    start = int(match.group(1))
                    end = int(match.group(2)) + 1 if match.group(2) else item.size
                    if start >= item.size:
                        self.send_response(416)
                        self.send_header("Content-Range", "bytes */%d" % item.size)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, item.size))
                else:
                    self.send_response(200)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start))
                self.end_headers()
                if head:
                    return
                sent, limit, began = 0, None, time.monotonic()
                if hub.drop_after is not None and hub.drops > 0:
                    hub.drops -= 1
                    limit = hub.drop_after
                for chunk in item.chunks(start, end):
                    if limit is not None and sent + len(chunk) >= limit:
                        self.wfile.write(chunk[:limit - sent])
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        self.close_connection = True
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    hub.body_bytes += len(chunk)
                    if hub.rate:
                        ahead = sent / hub.rate - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)

        return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--file", action="append", default=[], metavar="ORG/REPO:PATH=LOCALFILE",
                        help="serve LOCALFILE as PATH of repo ORG/REPO (repeatable)")
    parser.add_argument("--gated", action="append", default=[], metavar="ORG/REPO")
    parser.add_argument("--token", default="hf_standin_token")
    parser.add_argument("--drop-after", type=int, default=None, metavar="BYTES",
                        help="close the connection after BYTES of the next body (once)")
    parser.add_argument("--cdn-url", default=None, metavar="URL",
                        help="where LFS files redirect to (default http://localhost:PORT; another host's clients need "
                             "a name they can reach)")
    parser.add_argument("--rate-mib", type=float, default=None, metavar="MIB_PER_S",
                        help="pace every body at this many MiB/s, like a network link of that speed")
    args = parser.parse_args()
    files = {}
    for spec in args.file:
        repo_path, local = spec.split("=", 1)
        repo_id, path = repo_path.split(":", 1)
        files.setdefault(repo_id, {})[path] = local
    repos = {repo_id: StandinRepo(items, gated=repo_id in args.gated) for repo_id, items in files.items()}
    hub = HubStandin(repos, token=args.token, host=args.host, port=args.port)
    if args.drop_after is not None:
        hub.drop_after, hub.drops = args.drop_after, 1
    if args.cdn_url:
        hub.cdn_url = args.cdn_url.rstrip("/")
    if args.rate_mib:
        hub.rate = args.rate_mib * 1024 * 1024
    print("hub stand-in on %s (pid %d)" % (hub.url, os.getpid()), flush=True)
    hub.server.serve_forever()


if __name__ == "__main__":
    main()
