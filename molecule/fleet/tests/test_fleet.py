"""Each box of the fleet runs what its host_vars say, on its own ports, and answers."""
import json

import docker
import pytest

testinfra_hosts = ["ansible://strix"]

# the llama.cpp tiers' -c, the orchestrator's --max-model-len
WANTED = {"strix-fleet-1": {"orch": "8192", "reviewer": "16384", "utility": "2048"},
          "strix-fleet-2": {"orch": "8192", "utility": "1024"},
          "strix-fleet-3": {"orch": "8192", "reviewer": "1024", "utility": "2048"}}
KEY = "$(cat /etc/strix-opencode/api-key)"


@pytest.fixture(scope="module")
def engine():
    return docker.from_env()


def box(host):
    return host.backend.get_hostname()


def test_each_box_runs_its_tiers_with_its_settings(host, engine):
    name = box(host)
    running = engine.containers.list(filters={"label": "org.strix-opencode.stack=molecule-fleet-%s" % name})
    tiers = {c.labels["org.strix-opencode.tier"]: c.attrs["Config"]["Cmd"] for c in running}
    assert sorted(tiers) == sorted(WANTED[name])
    for tier, cmd in tiers.items():
        assert cmd[cmd.index("--max-model-len" if tier == "orch" else "-c") + 1] == WANTED[name][tier]


def test_each_box_answers_on_its_own_loopback_with_its_key(host):
    for tier, port in (("orch", 8001), ("utility", 8012), ("reviewer", 8011)):
        if tier not in WANTED[box(host)]:
            assert host.run("curl -sf http://127.0.0.1:%s/health", str(port)).rc != 0
            continue
        models = json.loads(host.check_output(
            "curl -sf -H \"Authorization: Bearer %s\" http://127.0.0.1:%s/v1/models" % (KEY, port)))
        assert models["data"][0]["id"]


def test_swap_follows_the_host_vars(host):
    size = {"strix-fleet-3": 64}.get(box(host), 128)
    f = host.file("/var/tmp/strix-opencode-test/fleet/%s/swap.img" % box(host))
    assert f.size == size * 1024 * 1024
