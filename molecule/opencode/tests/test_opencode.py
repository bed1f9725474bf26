"""OpenCode, installed by the role, reads the files the role deployed for user dev."""
import json

CONFIG = "/home/dev/.config/opencode/opencode.jsonc"
PLUGIN = "/home/dev/.omo/omo.jsonc"


def test_files_belong_to_the_user(host):
    for path in (CONFIG, PLUGIN):
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("dev", "dev", 0o644)


def test_the_installed_cli_is_the_pinned_version(host):
    assert host.check_output("opencode --version").strip() == "1.18.33"


def test_opencode_resolves_the_deployed_configuration(host):
    # To a file: OpenCode exits before a pipe has taken all of its output.
    host.check_output("cd /home/dev && timeout 300 sudo -u dev -H --preserve-env=NODE_EXTRA_CA_CERTS "
                      "opencode debug config > /tmp/resolved.json")
    text = host.file("/tmp/resolved.json").content_string
    config = json.loads(text[text.index("{"):])
    assert config["model"] == "local_orch/orch"
    assert config["provider"]["local_utility"]["options"]["baseURL"] == "http://127.0.0.1:8012/v1"
    assert config["provider"]["local_coder"]["models"]["coder"]["id"] == "Qwen/Qwen3-Coder-30B-A3B-Instruct"
    assert config["agent"]["reviewer"]["model"] == "local_reviewer/reviewer"
    sisyphus = next(agent for name, agent in config["agent"].items() if name.lower().startswith("sisyphus - "))
    assert (sisyphus["model"], sisyphus["maxTokens"]) == ("local_orch/orch", 16384)
    # no tier's prompt rate is known here: OpenCode waits for each without a timeout (its own is 5 minutes)
    for tier in ("orch", "coder", "reviewer", "utility"):
        options = config["provider"]["local_%s" % tier]["options"]
        assert (options["headerTimeout"], options["chunkTimeout"], options["timeout"]) == (False, False, False), options
    # nothing leaves the box unless asked
    assert (config["share"], config["autoupdate"]) == ("disabled", False)


def test_the_plugin_sends_no_telemetry_and_does_not_update_itself(host):
    text = host.file(PLUGIN).content_string
    assert '"telemetry": false' in text and '"auto_update": false' in text
    assert '"disabled_mcps": ["websearch", "context7", "grep_app"]' in text and '"auto_provision": false' in text


def test_no_api_key_in_the_files(host):
    assert "{env:OPENAI_API_KEY}" in host.file(CONFIG).content_string
    assert "sk-" not in host.file(CONFIG).content_string


def test_a_login_shell_keeps_opencodes_own_connections_off_and_opencode_still_resolves(host):
    env = host.check_output("su - dev -c env")
    for name in ("OPENCODE_DISABLE_MODELS_FETCH=1", "OPENCODE_DISABLE_AUTOUPDATE=1", "OMO_DISABLE_POSTHOG=1"):
        assert name in env.splitlines()
    host.check_output("su - dev -c 'cd /home/dev && NODE_EXTRA_CA_CERTS=%s timeout 300 opencode debug config' "
                      "> /tmp/resolved-login.json", host.environment().get("NODE_EXTRA_CA_CERTS", ""))
    text = host.file("/tmp/resolved-login.json").content_string
    assert json.loads(text[text.index("{"):])["model"] == "local_orch/orch"
