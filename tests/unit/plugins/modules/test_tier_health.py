"""The tier_health module against the vLLM stand-in and a Docker engine API stand-in on a unix socket."""
import json
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from ansible_collections.strix.opencode.plugins.modules import tier_health


@pytest.fixture
def run(run_module):
    return lambda **args: run_module(tier_health, **args)


@pytest.fixture
def standin(vllm_server):
    """start(load_seconds, never_ready) -> the base URL of the vLLM stand-in."""
    def start(load_seconds=0.0, never_ready=False, name="Qwen/Qwen2.5-14B-Instruct"):
        return vllm_server(["serve", "/models/orch", "--served-model-name", name], load_seconds, never_ready)
    return start


class DockerAPI:
    """Answers /containers/NAME/json and /containers/NAME/logs like the Docker engine, from a dict."""

    def __init__(self, path):
        self.containers = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = self.path.split("?")[0].split("/")
                box = api.containers.get(parts[2])
                if box is None:
                    body, status = b'{"message": "No such container"}', 404
                elif parts[3] == "json":
                    body, status = json.dumps({"State": box["state"]}).encode(), 200
                else:
                    lines = box["log"][-int(self.path.split("tail=")[1]):]
                    body = b"".join(struct.pack(">BxxxI", 2, len(line) + 1) + line.encode() + b"\n" for line in lines)
                    status = 200
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(str(path), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "unix://%s" % path

    def set(self, name, running=True, exit_code=0, log=(), restarting=False):
        self.containers[name] = {"state": {"Status": "restarting" if restarting else "running" if running else "exited",
                                           "Running": running, "Restarting": restarting, "ExitCode": exit_code},
                                 "log": list(log)}


@pytest.fixture
def docker(tmp_path):
    api = DockerAPI(tmp_path / "docker.sock")
    yield api
    api.server.shutdown()


def test_waits_until_healthy_and_returns_within_an_interval(run, standin):
    url = standin(load_seconds=1.5)
    start = time.time()
    result = run(tier="orch", url=url, model="Qwen/Qwen2.5-14B-Instruct", timeout=30, interval=0.2)
    assert result["state"] == "healthy" and not result["changed"]
    assert result["models"] == ["Qwen/Qwen2.5-14B-Instruct"]
    assert 1.5 <= time.time() - start < 1.5 + 1.0


def test_timeout_names_tier_port_elapsed_and_log_tail(run, standin, docker):
    url = standin(never_ready=True)
    docker.set("strix-orch", log=["line %d" % n for n in range(100)])
    result = run(tier="orch", url=url, model="Qwen/Qwen2.5-14B-Instruct", container="strix-orch",
                 docker_host=docker.url, timeout=1, interval=0.2)
    assert result["failed"]
    port = url.rsplit(":", 1)[1]
    assert result["msg"].startswith("tier orch (port %s): not healthy after 1." % port)
    assert "/health answered 503" in result["msg"]
    assert "last 40 lines of strix-orch's log:\nline 60\n" in result["msg"] and result["msg"].endswith("line 99")


def test_a_container_that_exits_fails_at_once_with_its_exit_code(run, standin, docker):
    url = standin(never_ready=True)
    docker.set("strix-coder", running=False, exit_code=3, log=["engine core died"])
    start = time.time()
    result = run(tier="coder", url=url, model="Qwen/Qwen2.5-14B-Instruct", container="strix-coder",
                 docker_host=docker.url, timeout=60)
    assert result["failed"] and time.time() - start < 5
    assert "container strix-coder exited with code 3" in result["msg"]
    assert result["msg"].endswith("engine core died") and result["exit_code"] == 3


def test_a_crash_looping_container_fails_at_once(run, standin, docker):
    """Docker reports Running and Restarting while it waits to restart a server that exited."""
    docker.set("strix-orch", running=True, restarting=True, exit_code=2,
               log=["vllm: error: unrecognized arguments: --no-such-flag"])
    start = time.time()
    result = run(tier="orch", url=standin(never_ready=True), model="m", container="strix-orch",
                 docker_host=docker.url, timeout=60)
    assert result["failed"] and time.time() - start < 5
    assert "container strix-orch keeps exiting (code 2) and Docker is restarting it" in result["msg"]
    assert result["msg"].endswith("unrecognized arguments: --no-such-flag")


def test_a_missing_container_fails(run, standin, docker):
    result = run(tier="coder", url=standin(never_ready=True), model="m", container="strix-coder",
                 docker_host=docker.url, timeout=60)
    assert result["failed"] and "container strix-coder does not exist" in result["msg"]


def test_wrong_model_is_not_healthy(run, standin):
    result = run(tier="orch", url=standin(name="other/model"), model="Qwen/Qwen2.5-14B-Instruct")
    assert not result.get("failed") and result["state"] == "loading"
    assert result["detail"] == "/v1/models lists other/model, not Qwen/Qwen2.5-14B-Instruct"


def test_probe_reports_down_and_loading_without_failing(run, standin):
    down = run(tier="utility", url="http://127.0.0.1:9", model="m")
    loading = run(tier="orch", url=standin(never_ready=True), model="Qwen/Qwen2.5-14B-Instruct")
    assert (down["state"], loading["state"]) == ("down", "loading")
    assert not down.get("failed") and not loading.get("failed")


def test_chat_reports_latency_and_answer(run, standin):
    result = run(tier="orch", url=standin(), model="Qwen/Qwen2.5-14B-Instruct", chat=True)
    assert result["state"] == "healthy" and result["latency_ms"] > 0
    assert result["answer"] == "stand-in reply from Qwen/Qwen2.5-14B-Instruct"


def test_check_mode_behaves_the_same(run, standin):
    result = run(tier="orch", url=standin(), model="Qwen/Qwen2.5-14B-Instruct", _ansible_check_mode=True)
    assert result["state"] == "healthy" and not result["changed"]


@pytest.mark.parametrize("args,message", [
    ({"url": "ftp://x"}, "url must be http(s)://host:port"),
    ({"docker_host": "tcp://1.2.3.4:2375", "container": "c"}, "docker_host must be a unix:// socket"),
    ({"timeout": -1}, "timeout must be 0 or more"),
])
def test_bad_arguments_fail_with_a_message(run, args, message):
    result = run(**dict({"tier": "orch", "url": "http://127.0.0.1:9", "model": "m"}, **args))
    assert result["failed"] and message in result["msg"]


def test_a_tier_with_a_key_is_healthy_only_with_the_key_file(run, vllm_server, tmp_path):
    url = vllm_server(["serve", "/models/orch", "--served-model-name", "orch", "--api-key", "box-key-0123456789abcdef"])
    key_file = tmp_path / "api-key"
    key_file.write_text("box-key-0123456789abcdef\n")
    without = run(tier="orch", url=url, model="orch")
    assert without["state"] == "loading" and "answered 401" in without["detail"] and "none was sent" in without["detail"]
    with_key = run(tier="orch", url=url, model="orch", api_key_file=str(key_file), chat=True)
    assert with_key["state"] == "healthy" and with_key["answer"] == "stand-in reply from orch"
    assert "box-key" not in json.dumps(with_key)


def test_an_unreadable_key_file_fails_naming_it(run, standin, tmp_path):
    result = run(tier="orch", url=standin(), model="Qwen/Qwen2.5-14B-Instruct", api_key_file=str(tmp_path / "none"))
    assert result.get("failed") and "cannot read the API key file %s" % (tmp_path / "none") in result["msg"]
