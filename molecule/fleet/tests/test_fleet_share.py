"""The fleet shares: each model left upstream once (for the mirror) and the boxes took it from the mirror; every
tier off loopback wants its box's key, which is in no argv, no world-readable file and no task output; OpenCode on
the workstation answers through box 1, and switch_orch works there."""
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
# the installed collection (make collection), for the figure the collection itself holds
sys.path.insert(0, str(ROOT / ".cache" / "collections"))
from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import (  # noqa: E402  pylint: disable=wrong-import-position
    SMOLLM2_GGUF_SHA256 as SHA256)
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
BOXES = ["strix-fleet-1", "strix-fleet-2", "strix-fleet-3"]
FLEET = Path("/var/tmp/strix-opencode-test/fleet")
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
KEY_FILE = "/etc/strix-opencode/api-key"

testinfra_hosts = ["ansible://strix-fleet-ws"]


def on(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, INVENTORY))


def playbook(*args, **env):
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", INVENTORY] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, timeout=1500,
                          env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", **env))


@pytest.fixture(scope="module")
def keys():
    return dict((name, on(name).check_output("cat %s" % KEY_FILE).strip()) for name in BOXES)


def test_each_model_left_upstream_once_and_the_boxes_took_it_from_the_mirror():
    mirror = on("strix-fleet-mirror")
    upstream = json.loads(mirror.check_output("curl -sf http://127.0.0.1:8091/_standin/stats"))
    size = (FLEET / "hub" / GGUF).stat().st_size
    served = [line.split() for line in mirror.check_output("cat /var/log/nginx/strix-mirror.access.log").splitlines()
              if GGUF in line and '"GET ' in line]
    from_mirror = sum(int(fields[-1]) for fields in served if fields[-2] in ("200", "206"))
    report = ("fleet of %d boxes, %s (%d bytes): %d bytes from upstream, %d bytes from the mirror\n"
              % (len(BOXES), GGUF, size, upstream["body_bytes"], from_mirror))
    print(report)
    (ROOT / ".cache" / "test-logs").mkdir(parents=True, exist_ok=True)
    (ROOT / ".cache" / "test-logs" / "fleet-mirror-bytes.txt").write_text(report)
    assert upstream["body_bytes"] == size  # once, for the mirror
    assert from_mirror == len(BOXES) * size
    assert len({fields[0] for fields in served}) == len(BOXES)  # one download per box, each from its own address
    for name in BOXES:
        path = FLEET / name / "models" / GGUF
        assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    # what the mirror keeps is the model alone: hf_download's records and partial files are not served
    listing = mirror.check_output("find /var/tmp/strix-opencode-test/fleet/mirror -name '.*' -type f").splitlines()
    assert listing, "hf_download keeps its record beside the file"
    for hidden in listing:
        url = "http://127.0.0.1:8090/%s" % hidden.split("/fleet/mirror/", 1)[1]
        assert mirror.check_output("curl -s -o /dev/null -w '%%{http_code}' %s", url) == "404"
    assert mirror.check_output("curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "
                               "http://127.0.0.1:8090/x") == "403"


@pytest.mark.parametrize("port", [8001, 8011, 8012])
def test_a_tier_off_loopback_answers_the_network_only_with_its_box_key(host, keys, port):
    url = "http://strix-fleet-1:%d" % port

    def status(path, key=None):
        header = "-H 'Authorization: Bearer %s'" % key if key else ""
        return host.check_output("curl -s -o /dev/null -w '%%{http_code}' %s %s%s" % (header, url, path))
    assert status("/health") == "200"  # Docker's healthcheck and load balancers need no key
    assert status("/v1/models") == "401"
    assert status("/v1/models", keys["strix-fleet-2"]) == "401"  # each box has its own key
    assert status("/v1/models", keys["strix-fleet-1"]) == "200"


def test_the_key_is_in_no_argv_and_no_world_readable_file(host, keys):
    for name, key in keys.items():
        box = on(name)
        assert len(key) >= 43 and len(set(keys.values())) == len(BOXES)
        for path in (KEY_FILE, KEY_FILE + ".env"):
            f = box.file(path)
            assert (f.user, f.mode) == ("root", 0o600), path
        assert box.file("/etc/strix-opencode").mode == 0o700
        holders = box.run("grep -rlsF -- %s /etc /root /home /srv /tmp /var/tmp/strix-opencode-test/fleet/%s"
                          % (key, name)).stdout.split()
        assert holders, "the key is somewhere"
        for path in holders:
            assert box.file(path).mode & 0o077 == 0, "%s holds the key and others may read it" % path
    # Docker keeps each container's environment (the key) in its config.v2.json: readable by root alone
    ids = subprocess.run(["docker", "ps", "-q", "--no-trunc", "--filter",
                          "label=org.strix-opencode.stack=molecule-fleet-strix-fleet-1"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(ids) == 3
    for container in ids:
        config = Path("/var/lib/docker/containers/%s/config.v2.json" % container)
        assert keys["strix-fleet-1"] in config.read_text() and config.stat().st_mode & 0o077 == 0
    # every process of this machine (the tier containers' servers among them): no key on a command line
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path("/proc/%s/cmdline" % pid).read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            assert not any(key in cmdline for key in keys.values()), "pid %s: %s" % (pid, cmdline[:200])
    # the workstation's copy: dev's own, 0600, and opencode.jsonc refers to it without holding it
    copy = host.file("/home/dev/.config/opencode/strix-api-key")
    assert (copy.user, copy.mode, copy.content_string.strip()) == ("dev", 0o600, keys["strix-fleet-1"])
    config = host.file("/home/dev/.config/opencode/opencode.jsonc").content_string
    assert keys["strix-fleet-1"] not in config
    assert config.count('"apiKey": "{file:~/.config/opencode/strix-api-key}"') == 3
    assert '"baseURL": "http://strix-fleet-1:8012/v1"' in config


def test_opencode_on_the_workstation_answers_through_box_1(host, keys):
    out = host.run("su - dev -c \"cd /tmp && timeout 300 opencode run -m local_reviewer/reviewer "
                   "'Answer with one word: what color is the sky?'\" 2>&1")
    assert out.rc == 0, out.stdout[-3000:]
    assert out.stdout.strip(), "OpenCode printed no answer"
    slots = json.loads(on("strix-fleet-1").check_output(
        "curl -sf -H 'Authorization: Bearer %s' http://127.0.0.1:8011/slots" % keys["strix-fleet-1"]))
    assert any(slot.get("n_past", 0) > 0 or slot.get("id_task", -1) >= 0 for slot in slots), slots


@pytest.mark.parametrize("orch,model", [("cloud", "cloud_planner/gpt-5"), ("local", "local_orch/orch")])
def test_switch_orch_works_on_the_workstation(host, orch, model):
    box_before = on("strix-fleet-1").file("/root/.config/opencode/opencode.jsonc").content_string
    proc = playbook(str(ROOT / "playbooks" / "site.yml"), "-l", "strix-fleet-ws", "--tags", "switch_orch",
                    "-e", "orch=%s" % orch)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    host.check_output("su - dev -c 'cd /tmp && timeout 300 opencode debug config > /tmp/resolved.json'")
    text = host.file("/tmp/resolved.json").content_string
    resolved = json.loads(text[text.index("{"):])
    assert resolved["model"] == model and resolved["agent"]["primary"]["model"] == model
    assert resolved["provider"]["local_utility"]["options"]["baseURL"] == "http://strix-fleet-1:8012/v1"
    assert on("strix-fleet-1").file("/root/.config/opencode/opencode.jsonc").content_string == box_before


def test_a_key_rotated_from_the_vault_shows_in_no_task_output(host, keys, tmp_path):
    """A run that changes the key (given in a vars file, as from a vault) rewrites the box's files, recreates its
    tiers and the workstation's copy, with -vv and --diff: neither key appears in what ansible prints."""
    rotated = "rotated-key-" + hashlib.sha256(keys["strix-fleet-1"].encode()).hexdigest()[:32]
    extra = tmp_path / "vault.json"
    extra.write_text(json.dumps({"strix_api_key": rotated}))
    proc = playbook(str(ROOT / "playbooks" / "site.yml"), "-l", "strix-fleet-1,strix-fleet-ws",
                    "--tags", "stack,opencode", "-e", "@%s" % extra, "-vv", "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    output = proc.stdout + proc.stderr
    assert re.search(r"changed: \[strix-fleet-1\]", output)  # the run did change the box
    assert keys["strix-fleet-1"] not in output and rotated not in output
    assert on("strix-fleet-1").check_output("cat %s" % KEY_FILE).strip() == rotated
    assert host.file("/home/dev/.config/opencode/strix-api-key").content_string.strip() == rotated
    assert host.check_output("curl -s -o /dev/null -w '%%{http_code}' -H 'Authorization: Bearer %s' "
                             "http://strix-fleet-1:8012/v1/models" % rotated) == "200"
    assert host.check_output("curl -s -o /dev/null -w '%%{http_code}' -H 'Authorization: Bearer %s' "
                             "http://strix-fleet-1:8012/v1/models" % keys["strix-fleet-1"]) == "401"
    # The gateway still holds box 1's old key: its checks (with that key) take box 1 out of the pools, so no request
    # fails there; a converge of the gateway takes the new key and box 1 returns.
    assert gateway_state("strix-fleet-1", "DOWN") == "DOWN"
    proc = playbook(str(ROOT / "playbooks" / "site.yml"), "--tags", "gateway")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert gateway_state("strix-fleet-1", "UP") == "UP"


def gateway_state(box, wanted):
    """The box's state in the gateway's utility pool, once it is the one wanted (30 s at most)."""
    line = "haproxy_server_status{proxy=\"utility\",server=\"%s\",state=\"%s\"} 1" % (box, wanted)
    return on("strix-fleet-mirror").check_output(
        "for i in $(seq 30); do curl -sf http://127.0.0.1:8404/metrics | grep -qF '%s' && echo %s && exit 0; "
        "sleep 1; done; echo not-%s" % (line, wanted, wanted))
