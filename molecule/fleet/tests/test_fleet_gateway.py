"""One address for the fleet: the gateway (HAProxy on the mirror host) spreads each tier's requests over the boxes that
run it, turns away a request without a user's key, takes a stopped tier out of its pool, and OpenCode on the second
workstation answers through it; the fleet's Prometheus scrapes every target, records the tokens each tier generated,
and its alert fires for the stopped tier."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import testinfra

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
BOXES = ["strix-fleet-1", "strix-fleet-2", "strix-fleet-3"]
GATEWAY = "strix-fleet-mirror"
KEY_FILE = "/etc/strix-opencode/api-key"

testinfra_hosts = ["ansible://strix-fleet-ws2"]


def on(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


@pytest.fixture(scope="module")
def dev_key():
    return on(GATEWAY).check_output("cat /etc/strix-gateway/keys/dev.key").strip()


@pytest.fixture(scope="module")
def record():
    return json.loads(on(GATEWAY).check_output("cat /etc/ansible/facts.d/strix_gateway.fact"))


def complete(host, port, key=None):
    """One short completion through the gateway from the workstation: the HTTP status."""
    header = "-H 'Authorization: Bearer %s'" % key if key else ""
    return host.check_output(
        "curl -s -o /dev/null -w '%%{http_code}' -m 120 %s -H 'Content-Type: application/json' "
        "-d '{\"model\": \"any\", \"prompt\": \"The sky is\", \"max_tokens\": 4}' "
        "http://%s:%d/v1/completions" % (header, GATEWAY, port))


def answered(tier):
    """The 2xx answers of each box in a tier's pool so far, from the gateway's own metrics."""
    counts = {}
    for line in on(GATEWAY).check_output("curl -sf http://127.0.0.1:8404/metrics").splitlines():
        if line.startswith("haproxy_server_http_responses_total{") and 'proxy="%s"' % tier in line \
                and 'code="2xx"' in line:
            server = line.split('server="', 1)[1].split('"', 1)[0]
            counts[server] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def server_state(tier, box):
    for line in on(GATEWAY).check_output("curl -sf http://127.0.0.1:8404/metrics").splitlines():
        if line.startswith('haproxy_server_status{proxy="%s",server="%s"' % (tier, box)) and line.endswith(" 1"):
            return line.split('state="', 1)[1].split('"', 1)[0]
    return None


def prometheus(path, query=None):
    """The data of a Prometheus API answer (its query URL-encoded)."""
    encoded = " --data-urlencode 'query=%s'" % query if query else ""
    return json.loads(on(GATEWAY).check_output("curl -sf -G http://127.0.0.1:9090/api/v1/%s%s" % (path, encoded)))[
        "data"]


def wait_for(what, check, seconds):
    deadline = time.time() + seconds
    while True:
        found = check()
        if found or time.time() > deadline:
            assert found, "%s: not within %d s" % (what, seconds)
            return found
        time.sleep(1)


def test_every_target_of_the_fleets_prometheus_is_up():
    def targets():
        active = prometheus("targets")["activeTargets"]
        return active if active and all(t["health"] == "up" for t in active) else None
    active = wait_for("every target up", targets, 60)
    jobs = sorted((t["labels"]["job"], t["labels"].get("box", t["labels"].get("gateway"))) for t in active)
    # box 2 runs no reviewer: 8 tiers, 3 node exporters, the gateway
    names = [job for job, who in jobs]
    assert names.count("strix-tiers") == 8 and names.count("strix-nodes") == 3
    assert ("strix-gateways", GATEWAY) in jobs
    # the node exporter carries the GPU memory (from the fixture's sysfs files) and earlyoom's kills
    gtt = prometheus("query", 'strix_gpu_memory_used_bytes{kind="gtt"}')["result"]
    assert sorted(r["metric"]["box"] for r in gtt) == BOXES and all(r["value"][1] == str(3 * 1024 ** 3) for r in gtt)
    kills = prometheus("query", "strix_earlyoom_kills_total")["result"]
    assert sorted(r["metric"]["box"] for r in kills) == BOXES


def test_the_rules_pass_promtool_and_the_tokens_of_each_tier_are_recorded():
    on(GATEWAY).check_output("promtool check rules /etc/prometheus/strix-rules.yml")
    # the bench through the gateway (test_fleet_bench.py) made every tier generate
    tokens = prometheus("query", "sum by (tier) (strix:tier_generated_tokens_total)")["result"]
    by_tier = dict((r["metric"]["tier"], float(r["value"][1])) for r in tokens)
    assert sorted(by_tier) == ["orch", "reviewer", "utility"] and all(v > 0 for v in by_tier.values()), by_tier


def test_requests_through_the_gateway_spread_over_the_boxes(host, dev_key, record):
    assert sorted(s["name"] for s in record["tiers"]["utility"]["servers"]) == BOXES
    before = answered("utility")
    assert [complete(host, 8012, dev_key) for attempt in range(6)] == ["200"] * 6
    after = answered("utility")
    served = dict((box, after.get(box, 0) - before.get(box, 0)) for box in BOXES)
    assert sum(served.values()) == 6 and all(n >= 1 for n in served.values()), served


def test_a_request_without_a_users_key_gets_401_and_the_log_names_the_user_never_a_key(host, dev_key):
    box_key = on("strix-fleet-1").check_output("cat %s" % KEY_FILE).strip()
    assert complete(host, 8012) == "401"
    assert complete(host, 8012, "not-a-key-of-this-gateway") == "401"
    assert complete(host, 8012, box_key) == "401"  # a box's key is the gateway's to use, not a user's
    assert complete(host, 8012, dev_key) == "200"
    log = on(GATEWAY).check_output("journalctl -u haproxy --no-pager -o cat")
    assert "user=dev tier=utility" in log and "user=- tier=utility box=<NOSRV> status=401" in log
    assert dev_key not in log and box_key not in log
    # the maps holding the keys are root's alone
    for name in ("strix-users.map", "strix-boxes.map"):
        f = on(GATEWAY).file("/etc/haproxy/" + name)
        assert (f.user, f.mode) == ("root", 0o600)


def test_opencode_on_the_second_workstation_answers_through_the_gateway(host, dev_key):
    config = host.file("/home/dev/.config/opencode/opencode.jsonc").content_string
    assert '"baseURL": "http://%s:8001/v1"' % GATEWAY in config and dev_key not in config
    assert host.file("/home/dev/.config/opencode/strix-api-key").content_string.strip() == dev_key
    out = host.run("su - dev -c \"cd /tmp && timeout 300 opencode run 'Answer with one word: what color is the sky?'\""
                   " 2>&1")
    assert out.rc == 0, out.stdout[-3000:]
    assert out.stdout.strip(), "OpenCode printed no answer"
    log = on(GATEWAY).check_output("journalctl -u haproxy --no-pager -o cat")
    assert "user=dev tier=orch" in log


def test_a_stopped_tier_leaves_the_pool_no_request_fails_after_the_checks_and_an_alert_fires(host, dev_key):
    box = on("strix-fleet-2")
    unit = "molecule-fleet-strix-fleet-2-utility.service"
    box.check_output("systemctl stop %s" % unit)
    try:
        # two failed checks two seconds apart
        wait_for("box 2 out of the utility pool", lambda: server_state("utility", "strix-fleet-2") == "DOWN", 30)
        before = answered("utility")
        assert [complete(host, 8012, dev_key) for attempt in range(6)] == ["200"] * 6
        after = answered("utility")
        assert after.get("strix-fleet-2", 0) == before.get("strix-fleet-2", 0)

        def firing():
            return [a for a in prometheus("alerts")["alerts"] if a["labels"]["alertname"] == "StrixTierDown"
                    and a["state"] == "firing"]
        alerts = wait_for("StrixTierDown firing", firing, 90)
        assert [(a["labels"]["box"], a["labels"]["tier"]) for a in alerts] == [("strix-fleet-2", "utility")]
        # health.yml's fleet view (the gateway host alone: no box is asked) shows the same
        proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY,
                               str(ROOT / "playbooks" / "health.yml"), "-l", GATEWAY], capture_output=True, text=True,
                              check=False, cwd=ROOT, timeout=300, env=dict(os.environ, ANSIBLE_FORCE_COLOR="0"))
        assert proc.returncode == 0, proc.stdout[-3000:]
        # the report's lines, as the default callback prints a debug message (indented), the boxes' rows
        lines = [line.strip() for line in proc.stdout.splitlines()]
        rows = dict((line.split()[0], line) for line in lines if line.split()[:1] and line.split()[0] in BOXES
                    and "utility" in line)
        assert sorted(rows) == BOXES
        assert "utility up" in rows["strix-fleet-1"] and "utility up" in rows["strix-fleet-3"]
        # down as a tier, and out of the gateway's utility pool
        assert rows["strix-fleet-2"].count("utility DOWN") == 2, rows["strix-fleet-2"]
        assert "StrixTierDown (strix-fleet-2 utility)" in proc.stdout
    finally:
        box.check_output("systemctl start %s" % unit)
    wait_for("box 2 back in the utility pool", lambda: server_state("utility", "strix-fleet-2") == "UP", 180)


def test_a_check_run_of_the_gateway_and_the_metrics_changes_nothing():
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY,
                           str(ROOT / "playbooks" / "site.yml"), "--check", "--diff", "--tags", "gateway,metrics",
                           "-l", "strix,strix_gateway,strix_metrics"], capture_output=True, text=True, check=False,
                          cwd=ROOT, timeout=600, env=dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"))
    assert proc.returncode == 0, proc.stdout[-3000:]
    stats = json.loads(proc.stdout)["stats"]
    assert sorted(stats) == sorted(BOXES + [GATEWAY]) and all(s["changed"] == 0 for s in stats.values()), stats
