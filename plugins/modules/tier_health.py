#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tier_health
short_description: Wait for an inference tier (vLLM or llama.cpp server) to be healthy, or report its state
version_added: 0.1.0
description:
  - A tier is healthy when C(GET /health) answers 200 and C(GET /v1/models) lists O(model).
  - With O(timeout) above 0 the module waits for that, polling every O(interval) seconds, so it returns within
    one interval of the tier becoming ready. It fails when O(timeout) passes, naming the tier, its port and the
    time waited, with the last O(log_lines) lines of the container's log.
  - When O(container) is given, the container is watched during the wait through the Docker engine's API. A
    container that exits, or that Docker is restarting after it exited (a crash loop under a restart policy), fails
    the wait at once, with its exit code and log tail, instead of after the timeout.
  - With O(timeout=0) the module looks once and reports the state (V(healthy), V(loading) or V(down)) without
    failing, for health reports. O(chat=true) then also sends a one-token chat completion to a healthy tier
    and returns its latency.
  - Never changes anything. Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  tier:
    description: The tier's name, used in messages.
    type: str
    required: true
  url:
    description: The server's base URL, without C(/v1).
    type: str
    required: true
  model:
    description: The model id the server must list under C(/v1/models) (vLLM's C(--served-model-name), llama.cpp's C(--alias)).
    type: str
    required: true
  container:
    description:
      - The tier's container name. The wait fails at once when it stops running, and failures include its log.
      - Leave out for a server that does not run in a container.
    type: str
  docker_host:
    description: The Docker engine's API, a C(unix://) socket path.
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description: Seconds to wait for the tier. V(0) looks once and reports without failing.
    type: float
    default: 0
  interval:
    description: Seconds between polls while waiting.
    type: float
    default: 0.5
  request_timeout:
    description: Seconds one HTTP request may take.
    type: float
    default: 5
  log_lines:
    description: Lines of the container's log to include in a failure.
    type: int
    default: 40
  api_key_file:
    description:
      - A file on the host holding the tier's API key (the M(strix.opencode.api_key) module's O(strix.opencode.api_key#module:path)),
        sent as a bearer token. The key is read by the module, never passed as an argument.
    type: path
  chat:
    description: When the tier is healthy, send a one-token chat completion and report its latency and answer.
    type: bool
    default: false
extends_documentation_fragment:
  - strix.opencode.read_only
seealso:
  - name: vLLM OpenAI-compatible server
    description: The C(/health) and C(/v1/models) endpoints vLLM serves.
    link: https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
"""

EXAMPLES = r"""
- name: Wait for the orchestrator before the coder starts
  strix.opencode.tier_health:
    tier: orch
    url: http://127.0.0.1:8001
    model: Qwen/Qwen2.5-14B-Instruct
    container: strix-orch
    timeout: 900

- name: Report the utility tier's state and the latency of a one-token answer
  strix.opencode.tier_health:
    tier: utility
    url: http://127.0.0.1:8012
    model: qwen2.5-3b-instruct-q4_k_m
    chat: true
  register: utility_health
"""

RETURN = r"""
state:
  description: V(healthy), V(loading) (the server answers but is not ready, or lists another model) or V(down) (no answer).
  returned: always
  type: str
  sample: healthy
elapsed:
  description: Seconds spent, from the start of the wait to the tier being healthy (or the failure).
  returned: always
  type: float
  sample: 41.7
detail:
  description: What the last poll saw, in words.
  returned: always
  type: str
  sample: /health answered 503
models:
  description: The model ids C(/v1/models) listed.
  returned: always
  type: list
  elements: str
  sample: [Qwen/Qwen2.5-14B-Instruct]
latency_ms:
  description: Milliseconds a one-token chat completion took. Only with O(chat=true) and a healthy tier.
  returned: when chat succeeded
  type: float
  sample: 182.4
answer:
  description: The text of that one-token answer.
  returned: when chat succeeded
  type: str
  sample: Hello
container_status:
  description: The container's status (running, exited, ...) when O(container) is given; V(missing) when there is none.
  returned: when container is given
  type: str
  sample: running
"""

import json
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit
from ansible_collections.strix.opencode.plugins.module_utils.api_key import KeyError_, auth_headers, read_key


class UnixHTTPConnection(http_client.HTTPConnection):
    """HTTP over the Docker engine's unix socket."""

    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Docker(object):
    def __init__(self, docker_host, timeout):
        if not docker_host.startswith("unix://"):
            raise ValueError("docker_host must be a unix:// socket, got %s" % docker_host)
        self.path = docker_host[len("unix://"):]
        self.timeout = timeout

    def get(self, path):
        conn = UnixHTTPConnection(self.path, self.timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def state(self, name):
        """The container's State dict, or None when there is no such container."""
        status, body = self.get("/containers/%s/json" % quote(name, safe=""))
        if status == 404:
            return None
        if status != 200:
            raise IOError("the Docker engine answered %d for container %s" % (status, name))
        return json.loads(body.decode("utf-8"))["State"]

    def log_tail(self, name, lines):
        status, body = self.get("/containers/%s/logs?stdout=1&stderr=1&tail=%d" % (quote(name, safe=""), lines))
        if status != 200:
            return "(no log: the Docker engine answered %d)" % status
        return demultiplex(body).decode("utf-8", "replace").rstrip("\n")


def demultiplex(data):
    """Join the frames of a non-TTY container log (8-byte headers: stream, 0, 0, 0, big-endian size)."""
    if not data or data[0:1] not in (b"\x00", b"\x01", b"\x02") or data[1:4] != b"\x00\x00\x00":
        return data
    out, pos = [], 0
    while pos + 8 <= len(data):
        size = struct.unpack(">I", data[pos + 4:pos + 8])[0]
        out.append(data[pos + 8:pos + 8 + size])
        pos += 8 + size
    return b"".join(out)


class Tier(object):
    def __init__(self, url, timeout, key=None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be http(s)://host:port, got %s" % url)
        self.parts = parts
        self.timeout = timeout
        self.auth = auth_headers(key)

    def request(self, method, path, body=None):
        cls = http_client.HTTPSConnection if self.parts.scheme == "https" else http_client.HTTPConnection
        conn = cls(self.parts.hostname, self.parts.port, timeout=self.timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            headers.update(self.auth)
            conn.request(method, self.parts.path.rstrip("/") + path,
                         body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def poll(self, model):
        """(state, detail, models) from one look at /health and /v1/models."""
        try:
            status, body = self.request("GET", "/health")
        except (socket.error, http_client.HTTPException) as exc:
            return "down", "no answer on /health (%s)" % exc, []
        if status != 200:
            return "loading", "/health answered %d" % status, []
        try:
            status, body = self.request("GET", "/v1/models")
        except (socket.error, http_client.HTTPException) as exc:
            return "loading", "no answer on /v1/models (%s)" % exc, []
        if status == 401:
            return "loading", "/v1/models answered 401: the tier wants an API key (%s)" % (
                "the one sent is not it" if self.auth else "none was sent; api_key_file names it"), []
        if status != 200:
            return "loading", "/v1/models answered %d" % status, []
        try:
            models = [entry.get("id") for entry in json.loads(body.decode("utf-8")).get("data", [])]
        except (ValueError, AttributeError):
            return "loading", "/v1/models answered something that is not a model list", []
        if model not in models:
            return "loading", "/v1/models lists %s, not %s" % (", ".join(models) or "nothing", model), models
        return "healthy", "healthy", models

    def chat(self, model):
        start = time.time()
        status, body = self.request("POST", "/v1/chat/completions", {
            "model": model, "max_tokens": 1, "temperature": 0,
            "messages": [{"role": "user", "content": "Say hello."}]})
        latency = (time.time() - start) * 1000.0
        if status != 200:
            raise IOError("a one-token chat completion answered %d: %s" % (status, body[:200].decode("utf-8", "replace")))
        answer = json.loads(body.decode("utf-8"))["choices"][0]["message"].get("content") or ""
        return round(latency, 1), answer


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tier=dict(type="str", required=True),
            url=dict(type="str", required=True),
            model=dict(type="str", required=True),
            container=dict(type="str"),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
            timeout=dict(type="float", default=0),
            interval=dict(type="float", default=0.5),
            request_timeout=dict(type="float", default=5),
            log_lines=dict(type="int", default=40),
            chat=dict(type="bool", default=False),
            api_key_file=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name, port = p["tier"], urlsplit(p["url"]).port
    where = "tier %s (port %s)" % (name, port)
    try:
        tier = Tier(p["url"], p["request_timeout"], read_key(p["api_key_file"]))
        docker = Docker(p["docker_host"], p["request_timeout"]) if p["container"] else None
    except (ValueError, KeyError_) as exc:
        module.fail_json(msg="%s: %s" % (where, exc))
    if p["timeout"] < 0 or p["interval"] <= 0:
        module.fail_json(msg="%s: timeout must be 0 or more and interval more than 0" % where)

    def log_tail():
        try:
            return docker.log_tail(p["container"], p["log_lines"])
        except (socket.error, IOError) as exc:
            return "(no log: %s)" % exc

    start = time.time()
    result = dict(changed=False)
    while True:
        state, detail, models = tier.poll(p["model"])
        elapsed = round(time.time() - start, 2)
        result.update(state=state, detail=detail, models=models, elapsed=elapsed)
        container = None
        if docker:
            try:
                container = docker.state(p["container"])
            except (socket.error, IOError, ValueError) as exc:
                module.fail_json(msg="%s: cannot ask the Docker engine at %s about container %s: %s"
                                 % (where, p["docker_host"], p["container"], exc), **result)
            result["container_status"] = container["Status"] if container else "missing"
        if state == "healthy" or p["timeout"] == 0:
            break
        if docker and container is not None and container.get("Restarting"):
            # Running and Restarting are both true while Docker waits to restart a crashed server: under a
            # restart policy a server that cannot start (a flag it does not know) would otherwise wait out the
            # whole timeout.
            module.fail_json(
                msg="%s: container %s keeps exiting (code %s) and Docker is restarting it, after %.1f s of waiting; "
                "last %d lines of its log:\n%s" % (where, p["container"], container.get("ExitCode"), elapsed,
                                                   p["log_lines"], log_tail()),
                exit_code=container.get("ExitCode"), **result)
        if docker and (container is None or not container.get("Running")):
            if container is None:
                module.fail_json(msg="%s: container %s does not exist (after %.1f s)"
                                 % (where, p["container"], elapsed), **result)
            module.fail_json(
                msg="%s: container %s exited with code %s after %.1f s of waiting; last %d lines of its log:\n%s"
                % (where, p["container"], container.get("ExitCode"), elapsed, p["log_lines"], log_tail()),
                exit_code=container.get("ExitCode"), **result)
        if elapsed >= p["timeout"]:
            tail = ("; last %d lines of %s's log:\n%s" % (p["log_lines"], p["container"], log_tail())) if docker else ""
            module.fail_json(msg="%s: not healthy after %.1f s (timeout %s s): %s%s"
                             % (where, elapsed, p["timeout"], detail, tail), **result)
        time.sleep(min(p["interval"], max(p["timeout"] - elapsed, 0.01)))

    if p["chat"] and result["state"] == "healthy":
        try:
            result["latency_ms"], result["answer"] = tier.chat(p["model"])
        except (socket.error, http_client.HTTPException, IOError, ValueError, KeyError, IndexError) as exc:
            result["detail"] = "healthy, but %s" % exc
    module.exit_json(**result)


if __name__ == "__main__":
    main()
