"""The vLLM tiers (stand-in image): started in order, served with the seed's fixes, token never on the command line."""
import json
import re
from datetime import datetime, timezone

import docker
import pytest

STACK = "molecule-vllm"
TIERS = {"orch": (8001, "Qwen/Qwen2.5-14B-Instruct", "hermes"),
         "coder": (8002, "Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3_coder")}


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


def container(engine, tier):
    return engine.containers.get("%s-vllm-%s" % (STACK, tier))


def ts(text):
    """Docker's RFC 3339 time with nanoseconds, as a UTC timestamp."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return base + float("0." + (match.group(2) or "0"))


def test_coder_started_after_the_orchestrator_was_healthy(engine):
    orch_log = container(engine, "orch").logs(timestamps=True).decode()
    healthy = [line.split(" ", 1)[0] for line in orch_log.splitlines() if '"GET /health HTTP/1.1" 200' in line]
    assert healthy, "the orchestrator never answered /health with 200"
    coder_started = ts(container(engine, "coder").attrs["State"]["StartedAt"])
    orch_started = ts(container(engine, "orch").attrs["State"]["StartedAt"])
    assert coder_started > ts(healthy[0]) > orch_started + 4  # it loaded for 4 s first


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_command_line_has_the_fixes(engine, tier):
    port, model, parser = TIERS[tier]
    c = container(engine, tier)
    cmd = c.attrs["Config"]["Entrypoint"] + c.attrs["Config"]["Cmd"]
    assert cmd[:2] == ["vllm", "serve"]
    assert cmd[cmd.index("--served-model-name") + 1] == model
    assert "--enable-auto-tool-choice" in cmd and cmd[cmd.index("--tool-call-parser") + 1] == parser
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == str(port)
    assert cmd[cmd.index("--kv-cache-dtype") + 1] == "auto" and "--enable-prefix-caching" in cmd
    assert c.attrs["HostConfig"]["IpcMode"] == "host"
    assert "seccomp=unconfined" in c.attrs["HostConfig"]["SecurityOpt"]
    assert c.labels["org.strix-opencode.model"] == model and c.labels["org.strix-opencode.engine"] == "vllm"


def test_local_model_is_served_offline_read_only(engine):
    c = container(engine, "orch")
    cmd = c.attrs["Config"]["Cmd"]
    assert cmd[1] == "/models/orch"
    assert "/var/tmp/strix-opencode-test/vllm/models/Qwen/Qwen2.5-14B-Instruct:/models/orch:ro" in c.attrs["HostConfig"]["Binds"]
    assert "HF_HUB_OFFLINE=1" in c.attrs["Config"]["Env"]
    assert "HF_HUB_OFFLINE=1" not in container(engine, "coder").attrs["Config"]["Env"]


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_token_is_in_a_0600_env_file_not_the_command_line(host, engine, tier):
    c = container(engine, tier)
    assert "hf_standin_token_for_tests" not in " ".join(c.attrs["Config"]["Cmd"])
    f = host.file("/var/tmp/strix-opencode-test/vllm/etc/%s-vllm-%s.env" % (STACK, tier))
    assert f.mode == 0o600 and f.user == "root"
    assert "HF_TOKEN=hf_standin_token_for_tests" in f.content_string


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_each_tier_answers_with_tools_enabled(host, tier):
    port, model, _parser = TIERS[tier]
    body = json.dumps({"model": model, "tool_choice": "auto", "messages": [{"role": "user", "content": "hi"}]})
    reply = json.loads(host.check_output(
        "curl -sf http://127.0.0.1:%s/v1/chat/completions -H 'Content-Type: application/json' -d %s", str(port), body))
    assert reply["model"] == model


def test_idempotence_and_check_restarted_nothing(engine):
    for tier in TIERS:
        c = container(engine, tier)
        assert c.attrs["RestartCount"] == 0
        assert abs(ts(c.attrs["State"]["StartedAt"]) - ts(c.attrs["Created"])) < 5
