"""Both CPU tiers of a real llama-server answer inside the box, started once, with the seed's fixes."""
import json

import docker
import pytest

STACK = "molecule-llamacpp"
TIERS = {"reviewer": (8011, "Llama-3.3-70B-Instruct-Q4_K_M"), "utility": (8012, "qwen2.5-3b-instruct-q4_k_m")}


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


def chat(host, port, model):
    body = json.dumps({"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "Say hello."}]})
    out = host.check_output("curl -sf http://127.0.0.1:%s/v1/chat/completions -H 'Content-Type: application/json' "
                            "-d %s", str(port), body)
    return json.loads(out)


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_each_tier_answers_a_real_chat_completion(host, tier):
    port, model = TIERS[tier]
    reply = chat(host, port, model)
    assert reply["model"] == model
    assert reply["choices"][0]["message"]["content"].strip()
    assert reply["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_models_endpoint_lists_the_alias(host, tier):
    port, model = TIERS[tier]
    models = json.loads(host.check_output("curl -sf http://127.0.0.1:%s/v1/models", str(port)))
    assert [m["id"] for m in models["data"]] == [model]


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_container_carries_the_seed_fixes(engine, tier):
    c = engine.containers.get("%s-llamacpp-%s" % (STACK, tier))
    cmd = c.attrs["Config"]["Cmd"]
    assert cmd[cmd.index("-ngl") + 1] == "0"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == str(TIERS[tier][0])
    assert "--load-mode" in cmd and "--alias" in cmd
    assert c.attrs["HostConfig"]["IpcMode"] == "host"
    assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert c.attrs["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "50m"}}
    assert c.labels["org.strix-opencode.tier"] == tier and c.labels["org.strix-opencode.engine"] == "llamacpp"
    assert "/health" in " ".join(c.attrs["Config"]["Healthcheck"]["Test"])
    assert c.attrs["HostConfig"]["Binds"] == ["/var/tmp/strix-opencode-test/llamacpp/models:/models:ro"]


def test_groups_are_numeric_ids_from_the_box(host, engine):
    c = engine.containers.get("%s-llamacpp-utility" % STACK)
    expected = sorted(host.check_output("getent group %s | cut -d: -f3", g) for g in ("video", "render"))
    assert sorted(c.attrs["HostConfig"]["GroupAdd"]) == expected


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_second_run_restarted_nothing(engine, tier):
    c = engine.containers.get("%s-llamacpp-%s" % (STACK, tier))
    assert c.attrs["RestartCount"] == 0
    # created once: started at creation, never again (idempotence and check did not touch it)
    assert c.attrs["State"]["Running"]
    assert abs(_ts(c.attrs["State"]["StartedAt"]) - _ts(c.attrs["Created"])) < 5


def _ts(text):
    from datetime import datetime
    return datetime.fromisoformat(text[:26].rstrip("Z")).timestamp()
