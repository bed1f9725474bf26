"""The plan's tiers on real containers: started in order, with the plan's command lines, answering, and
OpenCode configured for exactly those tiers."""
import json
import re
from datetime import datetime, timezone

import docker
import pytest

STACK = "molecule-stack"
# The real vLLM on the CPU serving SmolLM2: (port, served name, context, sequences, the tier's tool-call parser)
VLLM = {"orch": (8001, "smollm2-orch", 16384, 1, "hermes"), "coder": (8002, "smollm2-coder", 4096, 2, "qwen3_coder")}
# SmolLM2-135M's KV cache: 30 layers x 3 KV heads x (64 + 64) x 2 bytes per token
SMOLLM2_KV_BYTES_PER_TOKEN = 23040
LLAMA = {"reviewer": (8011, "smollm2-reviewer"), "utility": (8012, "smollm2-utility")}


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


def container(engine, tier):
    return engine.containers.get("%s-%s" % (STACK, tier))


def ts(text):
    """Docker's RFC 3339 time with nanoseconds, as a UTC timestamp."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return base + float("0." + (match.group(2) or "0"))


def chat(host, port, model):
    body = json.dumps({"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "Say hello."}]})
    return json.loads(host.check_output("curl -sf http://127.0.0.1:%s/v1/chat/completions "
                                        "-H 'Content-Type: application/json' -d %s", str(port), body))


def test_coder_started_after_the_orchestrator_was_healthy(engine):
    orch_log = container(engine, "orch").logs(timestamps=True).decode()
    healthy = [line.split(" ", 1)[0] for line in orch_log.splitlines() if '"GET /health HTTP/1.1" 200' in line]
    assert healthy, "the orchestrator never answered /health with 200"
    coder_started = ts(container(engine, "coder").attrs["State"]["StartedAt"])
    orch_started = ts(container(engine, "orch").attrs["State"]["StartedAt"])
    assert coder_started > ts(healthy[0]) > orch_started + 4  # the real server loads for longer than that


def unit(host, tier):
    out = host.check_output("systemctl show -p ActiveState -p UnitFileState -p After -p ExecStartPre -p Restart "
                            "%s-%s.service", STACK, tier)
    return dict(line.split("=", 1) for line in out.splitlines())


def test_the_tiers_are_units_of_the_box_each_after_the_one_before(host):
    units = dict((t, unit(host, t)) for t in list(VLLM) + list(LLAMA))
    assert all((u["ActiveState"], u["UnitFileState"], u["Restart"]) == ("active", "enabled", "always")
               for u in units.values()), units
    before = dict((t, [p for p in units if "%s-%s.service" % (STACK, p) in u["After"].split()])
                  for t, u in units.items())
    # a chain: the orchestrator first, the coder after it, one CPU tier after the coder, the other after that one
    assert before["orch"] == [] and before["coder"] == ["orch"], before
    first_cpu = [t for t in LLAMA if before[t] == ["coder"]]
    assert len(first_cpu) == 1 and before[(set(LLAMA) - set(first_cpu)).pop()] == first_cpu, before
    # each, before it starts, waits for the one before it to be started and answering
    for tier, prev in before.items():
        pre = units[tier].get("ExecStartPre", "")
        assert ("strix-tier after http://127.0.0.1:" in pre and "%s-%s.service" % (STACK, prev[0]) in pre) if prev \
            else pre == "", (tier, pre)


def test_cpu_tiers_started_after_the_gpu_tiers(engine):
    coder = ts(container(engine, "coder").attrs["State"]["StartedAt"])
    assert all(ts(container(engine, t).attrs["State"]["StartedAt"]) > coder for t in LLAMA)


@pytest.mark.parametrize("tier", sorted(VLLM))
def test_vllm_on_the_cpu_serves_the_local_copy_offline_with_the_plans_kv_cache(engine, tier):
    port, model, context, sequences, parser = VLLM[tier]
    c = container(engine, tier)
    cmd = c.attrs["Config"]["Entrypoint"] + c.attrs["Config"]["Cmd"]
    assert cmd[:3] == ["vllm", "serve", "/models/%s" % tier]
    assert cmd[cmd.index("--served-model-name") + 1] == model
    assert "--enable-auto-tool-choice" in cmd and cmd[cmd.index("--tool-call-parser") + 1] == parser
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == str(port)
    assert cmd[cmd.index("--max-model-len") + 1] == str(context)
    assert cmd[cmd.index("--max-num-seqs") + 1] == str(sequences)
    kv_bytes = int(cmd[cmd.index("--kv-cache-memory-bytes") + 1])
    assert kv_bytes >= (context * sequences + 256) * SMOLLM2_KV_BYTES_PER_TOKEN
    # the server took the plan's figure: its log states the tokens that fit, in blocks of 128
    log = c.logs().decode()
    tokens = kv_bytes // SMOLLM2_KV_BYTES_PER_TOKEN // 128 * 128
    assert "KV cache size: {:,} tokens".format(tokens) in log, [l for l in log.splitlines() if "KV cache" in l]
    # nothing of the GPU
    assert "--gpu-memory-utilization" not in cmd and "--attention-backend" not in cmd
    env = c.attrs["Config"]["Env"]
    assert "HF_HUB_OFFLINE=1" in env and not [v for v in env if "ROCM" in v or "TRITON" in v]
    assert not c.attrs["HostConfig"]["Devices"] and not c.attrs["HostConfig"]["GroupAdd"]
    assert any(b.endswith(":/models/%s:ro" % tier) for b in c.attrs["HostConfig"]["Binds"])
    assert c.labels["org.strix-opencode.engine"] == "vllm" and c.labels["org.strix-opencode.device"] == "cpu"


def test_the_orchestrator_is_stretched_with_yarn_and_vllm_takes_the_longer_context(engine):
    c = container(engine, "orch")
    cmd = c.attrs["Config"]["Cmd"]
    overrides = json.loads(cmd[cmd.index("--hf-overrides") + 1])
    assert overrides == {"max_position_embeddings": 16384, "rope_scaling": {
        "factor": 2.0, "original_max_position_embeddings": 8192, "rope_type": "yarn"}}
    assert "max_seq_len=16384" in c.logs().decode()


@pytest.mark.parametrize("tier", sorted(LLAMA))
def test_cpu_tiers_stay_off_the_gpu(engine, tier):
    c = container(engine, tier)
    cmd = c.attrs["Config"]["Cmd"]
    assert cmd[cmd.index("-ngl") + 1] == "0" and cmd[cmd.index("-dev") + 1] == "none"
    assert cmd[cmd.index("-np") + 1] == "1" and cmd[cmd.index("-c") + 1] == "2048"
    assert cmd[cmd.index("--alias") + 1] == LLAMA[tier][1] and "--load-mode" in cmd
    assert not c.attrs["HostConfig"]["Devices"] and not c.attrs["HostConfig"]["GroupAdd"]
    assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] in ("", "no")  # the unit restarts the tier, not Docker
    assert c.attrs["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "50m"}}


def test_each_tier_carries_its_model_state_as_labels(engine):
    c = container(engine, "utility")
    assert re.match(r"^\d+ bytes, modified [0-9.]+, inode \d+$", c.labels["org.strix-opencode.model-file"])
    assert c.labels["org.strix-opencode.tier"] == "utility" and c.labels["org.strix-opencode.port"] == "8012"


@pytest.mark.parametrize("tier", sorted(VLLM) + sorted(LLAMA))
def test_each_tier_answers(host, tier):
    port, model = (VLLM.get(tier) or LLAMA[tier])[:2]
    reply = chat(host, port, model)
    assert reply["model"] == model and reply["choices"][0]["message"]["content"].strip()


def test_idempotence_and_check_restarted_nothing(engine):
    for tier in list(VLLM) + list(LLAMA):
        c = container(engine, tier)
        assert c.attrs["RestartCount"] == 0
        assert abs(ts(c.attrs["State"]["StartedAt"]) - ts(c.attrs["Created"])) < 5


def resolved_config(host):
    # To a file: OpenCode exits before a pipe has taken all of its output.
    host.check_output("cd /tmp && timeout 300 opencode debug config > /tmp/resolved.json")
    text = host.file("/tmp/resolved.json").content_string
    return json.loads(text[text.index("{"):])


def test_opencode_resolves_what_the_plan_meant(host):
    """Key by key: OpenCode drops keys it does not know, so an exit code alone proves nothing."""
    resolved = resolved_config(host)
    assert resolved["model"] == "local_orch/orch" and resolved["default_agent"] == "primary"
    assert resolved["small_model"] == "local_utility/utility"
    assert sorted(resolved["provider"]) == ["local_coder", "local_orch", "local_reviewer", "local_utility"]
    for tier, (port, model) in {**{t: v[:2] for t, v in VLLM.items()}, **LLAMA}.items():
        provider = resolved["provider"]["local_%s" % tier]
        assert provider["options"]["baseURL"] == "http://127.0.0.1:%d/v1" % port
        assert provider["models"][tier]["id"] == model and provider["models"][tier]["tool_call"] is True
    assert resolved["provider"]["local_orch"]["models"]["orch"]["limit"] == {"context": 16384, "output": 512}
    assert resolved["provider"]["local_utility"]["models"]["utility"]["limit"] == {"context": 2048, "output": 512}
    assert resolved["agent"]["primary"]["model"] == "local_orch/orch"
    assert resolved["agent"]["reviewer"]["model"] == "local_reviewer/reviewer"
    omo = json.loads(re.sub(r"^\s*//.*$", "", host.file("/root/.omo/omo.jsonc").content_string, flags=re.M))
    assert omo["[opencode]"]["agents"]["librarian"] == {"model": "local_utility/utility", "maxTokens": 512}
    assert omo["[opencode]"]["agents"]["sisyphus"] == {"model": "local_orch/orch", "maxTokens": 512}


@pytest.mark.parametrize("tier", sorted(VLLM) + sorted(LLAMA))
def test_each_images_healthcheck_works_in_that_image(engine, tier):
    """No curl assumed: llama.cpp's check is bash's /dev/tcp, vLLM's the image's own python3."""
    c = container(engine, tier)
    test = c.attrs["Config"]["Healthcheck"]["Test"]
    assert test[0] == "CMD" and "curl" not in test
    result = c.exec_run(test[1:])
    assert result.exit_code == 0, result.output


def test_the_box_records_the_image_and_model_each_tier_runs(host, engine):
    record = json.loads(host.file("/etc/ansible/facts.d/strix_tiers.fact").content_string)
    assert sorted(record) == sorted(list(VLLM) + list(LLAMA))
    for tier, ran in record.items():
        c = container(engine, tier)
        assert ran["image_id"] == c.attrs["Image"] and ran["container"] == c.name
        assert ran["image"] == c.attrs["Config"]["Image"] and ran["model"] == (VLLM.get(tier) or LLAMA[tier])[1]


def vllm_counter(host, port, name):
    """One of the real vLLM's own Prometheus counters, summed over its labels."""
    text = host.check_output("curl -sf http://127.0.0.1:%s/metrics", str(port))
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def test_opencodes_default_agent_answers_through_the_real_vllm_with_its_tools(host):
    """No --model: the default agent is the orchestrator, the real vLLM; OpenCode sends it its system prompt and
    tool definitions (thousands of tokens), and the answer comes back."""
    port = VLLM["orch"][0]
    before = (vllm_counter(host, port, "vllm:request_success_total"),
              vllm_counter(host, port, "vllm:prompt_tokens_total"))
    answer = host.run("cd /tmp && timeout 600 opencode run 'Reply with one word: hello.' 2>/tmp/opencode-run.log")
    log = host.file("/tmp/opencode-run.log").content_string
    assert answer.rc == 0 and answer.stdout.strip(), log[-3000:]
    after = (vllm_counter(host, port, "vllm:request_success_total"),
             vllm_counter(host, port, "vllm:prompt_tokens_total"))
    assert after[0] > before[0], "the orchestrator's vLLM served no request"
    assert after[1] - before[1] > 2000, "OpenCode's prompt with its tools is thousands of tokens"
