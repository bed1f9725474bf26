"""The vLLM stand-in behaves like vLLM's server where the stack's tests will rely on it."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

STANDIN = Path(__file__).resolve().parents[1] / "support" / "vllm_standin.py"
SERVE = ["serve", "Qwen/Qwen2.5-14B-Instruct", "--served-model-name", "Qwen/Qwen2.5-14B-Instruct",
         "--dtype", "auto", "--gpu-memory-utilization", "0.35", "--max-model-len", "65536",
         "--kv-cache-dtype", "auto", "--max-num-seqs", "4", "--enable-prefix-caching"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def standin():
    procs = []

    def start(args, **env):
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(STANDIN)] + args + ["--host", "127.0.0.1", "--port", str(port)],
                                env=dict(os.environ, **env), stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return SimpleNamespace(proc=proc, url="http://127.0.0.1:%d" % port)

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def status(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_loads_with_503_then_serves_the_served_model_name(standin):
    url = standin(SERVE, STANDIN_LOAD_SECONDS="1").url
    assert status(url + "/health")[0] == 503
    time.sleep(1.2)
    assert status(url + "/health")[0] == 200
    models = status(url + "/v1/models")[1]
    assert [m["id"] for m in models["data"]] == ["Qwen/Qwen2.5-14B-Instruct"]
    code, reply = status(url + "/v1/chat/completions",
                         {"model": "Qwen/Qwen2.5-14B-Instruct", "messages": [{"role": "user", "content": "hi"}]})
    assert code == 200 and reply["choices"][0]["message"]["content"]


def test_another_model_name_is_404_and_auto_tool_choice_needs_the_flags(standin):
    url = standin(SERVE, STANDIN_LOAD_SECONDS="0").url
    assert status(url + "/v1/chat/completions", {"model": "orch", "messages": []})[0] == 404
    code, reply = status(url + "/v1/chat/completions",
                         {"model": "Qwen/Qwen2.5-14B-Instruct", "messages": [], "tool_choice": "auto"})
    assert code == 400 and "--enable-auto-tool-choice" in reply["error"]["message"]
    tools_url = standin(SERVE + ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"],
                        STANDIN_LOAD_SECONDS="0").url
    assert status(tools_url + "/v1/chat/completions",
                  {"model": "Qwen/Qwen2.5-14B-Instruct", "messages": [], "tool_choice": "auto"})[0] == 200


@pytest.mark.parametrize("extra,message", [
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["--enable-auto-tool-choice"], "--enable-auto-tool-choice requires --tool-call-parser"),
    (["--kv-cache-dtype", "int3"], "invalid choice: 'int3'"),
    (["--gpu-memory-utilization", "1.2"], "--gpu-memory-utilization must be in (0, 1]"),
])
def test_a_command_line_vllm_refuses_fails_at_start(extra, message):
    proc = subprocess.run([sys.executable, str(STANDIN)] + SERVE + extra, capture_output=True, text=True,
                          timeout=10, check=False)
    assert proc.returncode == 2 and message in proc.stderr


def test_never_ready_and_crash_switches(standin):
    url = standin(SERVE, STANDIN_NEVER_READY="1", STANDIN_LOAD_SECONDS="0").url
    time.sleep(0.3)
    assert status(url + "/health")[0] == 503
    crashing = standin(SERVE, STANDIN_EXIT_AFTER="0.5")
    assert crashing.proc.wait(timeout=5) == 3 and "engine core died" in crashing.proc.stderr.read()


def test_a_max_model_len_above_the_models_config_is_refused_unless_hf_overrides_raise_it():
    """As the real vLLM does (tests/contract/test_vllm.py holds both to the same model and figures)."""
    model = str(Path(__file__).resolve().parents[1] / "fixtures" / "model-configs" / "Qwen" / "Qwen2.5-14B-Instruct")
    line = [sys.executable, str(STANDIN), "serve", model] + SERVE[2:] + ["--port", "1"]
    proc = subprocess.run(line, capture_output=True, text=True, timeout=10, check=False)
    assert proc.returncode == 1 and "User-specified max_model_len (65536) is greater than the derived" in proc.stderr
    yarn = {"rope_scaling": {"rope_type": "yarn", "factor": 2.0, "original_max_position_embeddings": 32768},
            "max_position_embeddings": 65536}
    with subprocess.Popen(line[:-2] + ["--port", str(free_port()), "--hf-overrides", json.dumps(yarn),
                                       "--attention-backend", "TRITON_ATTN"], stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert "serving" in proc.stderr.readline()
        finally:
            proc.kill()


def test_an_api_key_guards_the_v1_routes_and_leaves_health_open(standin):
    url = standin(SERVE, STANDIN_LOAD_SECONDS="0", VLLM_API_KEY="box-key-0123456789abcdef").url

    def get(path, key=None):
        request = urllib.request.Request(url + path, headers={"Authorization": "Bearer %s" % key} if key else {})
        try:
            return urllib.request.urlopen(request, timeout=5).status
        except urllib.error.HTTPError as error:
            return error.code
    assert get("/health") == 200
    assert get("/v1/models") == 401 and get("/v1/models", "wrong-key-0123456789") == 401
    assert get("/v1/models", "box-key-0123456789abcdef") == 200


def test_a_streamed_chat_completion_comes_as_server_sent_chunks_with_usage(standin):
    url = standin(SERVE, STANDIN_LOAD_SECONDS="0").url
    body = json.dumps({"model": "Qwen/Qwen2.5-14B-Instruct", "stream": True, "stream_options": {"include_usage": True},
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        events = [line[6:] for line in response.read().decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "stand-in reply from Qwen/Qwen2.5-14B-Instruct"
    assert chunks[-1]["usage"]["completion_tokens"] == 4 and chunks[-2]["choices"][0]["finish_reason"] == "stop"


def test_a_chat_is_answered_after_its_prompt_is_read_at_the_prompt_rate(standin):
    url = standin(SERVE, STANDIN_LOAD_SECONDS="0", STANDIN_PROMPT_TPS="100").url
    words = " ".join(["word"] * 150)
    body = json.dumps({"model": "Qwen/Qwen2.5-14B-Instruct", "stream": True, "stream_options": {"include_usage": True},
                       "messages": [{"role": "system", "content": [{"type": "text", "text": words}]},
                                    {"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.time()
    with urllib.request.urlopen(request, timeout=10) as response:
        headers_after = time.time() - start
        events = [line[6:] for line in response.read().decode().splitlines() if line.startswith("data: ")]
    # the headers at once, the first chunk after 151 words at 100 a second
    assert headers_after < 1.0 and time.time() - start >= 1.5
    assert json.loads(events[-2])["usage"]["prompt_tokens"] == 151
