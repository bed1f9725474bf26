# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenCode configuration of a Strix box, derived from the opencode role's variables.

One function decides what OpenCode's opencode.jsonc and the plugin's omo.jsonc hold: the template
renders it on first deployment and the role keeps the same values in place afterwards, so the two
cannot drift apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

TIERS = ("orch", "coder", "reviewer", "utility")
AGENT_ROLES = {
    "orch": "Orchestrator: plans, coordinates and delegates",
    "coder": "Code generation and tool use",
    "reviewer": "Escalation, deep review and architecture",
    "utility": "Fast utility tasks and summaries",
}
PLUGIN_CONFIG_SECTION = "[opencode]"


def tier_ref(tier):
    """The provider/model reference OpenCode uses for a local tier, e.g. local_orch/orch."""
    return "local_%s/%s" % (tier, tier)


def _check(tiers, local_tiers, cloud, plugin_agents, orch):
    problems = []
    unknown = [t for t in local_tiers if t not in TIERS]
    if unknown:
        problems.append("opencode_local_tiers: unknown tier(s) %s; tiers are %s" % (", ".join(unknown), ", ".join(TIERS)))
    for tier in [t for t in local_tiers if t in TIERS]:
        spec = tiers.get(tier)
        if not isinstance(spec, dict):
            problems.append("opencode_tiers.%s is missing" % tier)
            continue
        port = spec.get("port")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            problems.append("opencode_tiers.%s.port must be a port number (1-65535), got %r" % (tier, port))
        if not spec.get("model_id"):
            problems.append("opencode_tiers.%s.model_id must name the model the tier serves" % tier)
        for key in ("context", "output"):
            if not isinstance(spec.get(key), int) or spec.get(key) <= 0:
                problems.append("opencode_tiers.%s.%s must be a positive number of tokens, got %r" % (tier, key, spec.get(key)))
    for name, agent in plugin_agents.items():
        if agent.get("tier") not in TIERS:
            problems.append("opencode_plugin_agents.%s.tier must be one of %s, got %r" % (name, ", ".join(TIERS), agent.get("tier")))
    if orch not in (None, "", "vllm", "cloud"):
        problems.append("orch must be vllm or cloud, got %r" % (orch,))
    if orch == "cloud" and not cloud.get("model"):
        problems.append("orch=cloud needs opencode_cloud_model, the cloud planner's model (e.g. gpt-5)")
    if orch == "vllm" and "orch" not in local_tiers:
        problems.append("orch=vllm needs the orchestrator tier, which opencode_local_tiers does not include")
    if not [t for t in local_tiers if t in TIERS] and not cloud.get("model"):
        problems.append("OpenCode has no model to use: opencode_local_tiers is empty and opencode_cloud_model is unset")
    if problems:
        raise AnsibleFilterError("; ".join(problems))


def _provider(tier, spec, host):
    return {
        "npm": "@ai-sdk/openai-compatible",
        "name": spec.get("title", tier),
        "options": {"baseURL": "http://%s:%d/v1" % (host, spec["port"]), "apiKey": "local"},
        "models": {tier: {
            "id": spec["model_id"],
            "name": spec["model_id"],
            "tool_call": True,
            "limit": {"context": spec["context"], "output": spec["output"]},
        }},
    }


def _cloud_provider(cloud):
    options = {"apiKey": "{env:%s}" % cloud["api_key_env"]}
    if cloud.get("base_url"):
        options["baseURL"] = cloud["base_url"]
    return {"npm": cloud["npm"], "name": "Cloud planner", "options": options, "models": {cloud["model"]: {}}}


def _leaves(prefix, value):
    """Edits setting every leaf of value under prefix (so values a user added beside them survive)."""
    if isinstance(value, dict) and value:
        edits = []
        for key, child in value.items():
            edits.extend(_leaves(prefix + [key], child))
        return edits
    return [{"key_path": prefix, "value": value, "state": "present"}]


def _absent(path):
    return {"key_path": path, "state": "absent", "value": None}


def opencode_layout(tiers, local_tiers, host="127.0.0.1", cloud=None, plugin_agents=None, orch=None):
    """Everything the opencode role writes, as data.

    Returns a dict:
      primary        the primary agent's model for this run
      small_model    the model for titles and summaries
      providers      provider id -> provider, for the first render
      agents         agent name -> agent, for the first render
      plugin_agents  plugin agent name -> {model, maxTokens}, for the first render
      config_edits   edits of opencode.jsonc that every run keeps in place (not the orchestrator's)
      plugin_edits   the same for omo.jsonc
      switch_config_edits / switch_plugin_edits
                     the orchestrator's values; applied when orch is given (-e orch=vllm|cloud)
    """
    cloud = dict(cloud or {})
    plugin_agents = plugin_agents or {}
    orch = orch or None
    _check(tiers, local_tiers, cloud, plugin_agents, orch)

    enabled = [t for t in TIERS if t in local_tiers]
    cloud_ref = "cloud_planner/%s" % cloud["model"] if cloud.get("model") else None
    default_primary = tier_ref("orch") if "orch" in enabled else cloud_ref or tier_ref(enabled[0])
    primary = {"cloud": cloud_ref, "vllm": tier_ref("orch")}.get(orch, default_primary)

    def agent_model(tier):
        if tier == "orch":
            return primary
        return tier_ref(tier) if tier in enabled else default_primary

    providers = dict(("local_%s" % t, _provider(t, tiers[t], host)) for t in enabled)
    if cloud_ref:
        providers["cloud_planner"] = _cloud_provider(cloud)
    agents = {"primary": {"mode": "primary", "model": primary, "description": AGENT_ROLES["orch"]}}
    for tier in enabled:
        if tier != "orch":
            agents[tier] = {"mode": "subagent", "model": tier_ref(tier), "description": AGENT_ROLES[tier]}

    plugin = {}
    for name, agent in plugin_agents.items():
        model = agent_model(agent["tier"])
        plugin[name] = {"model": model}
        if not model.startswith("cloud_planner/") and agent.get("max_tokens"):
            plugin[name]["maxTokens"] = agent["max_tokens"]

    config_edits = []
    for name, provider in providers.items():
        if name == "cloud_planner":
            config_edits += _leaves(["provider", name, "npm"], provider["npm"])
            config_edits += _leaves(["provider", name, "options"], provider["options"])
            config_edits += _leaves(["provider", name, "models", cloud["model"]], {})
        else:
            config_edits += _leaves(["provider", name, "options", "baseURL"], provider["options"]["baseURL"])
            config_edits += _leaves(["provider", name, "models"], provider["models"])
    for tier in TIERS:
        if tier not in enabled:
            config_edits.append(_absent(["provider", "local_%s" % tier]))
            if tier != "orch":
                config_edits.append(_absent(["agent", tier]))
    for name, agent in agents.items():
        if name != "primary":
            config_edits += _leaves(["agent", name, "mode"], agent["mode"])
            config_edits += _leaves(["agent", name, "model"], agent["model"])
    small_model = tier_ref("utility") if "utility" in enabled else default_primary
    config_edits += _leaves(["small_model"], small_model)

    switch_config_edits = _leaves(["model"], primary) + _leaves(["agent", "primary", "model"], primary)
    if orch == "cloud":
        switch_config_edits = (_leaves(["provider", "cloud_planner", "npm"], cloud["npm"])
                               + _leaves(["provider", "cloud_planner", "options"], _cloud_provider(cloud)["options"])
                               + _leaves(["provider", "cloud_planner", "models", cloud["model"]], {})
                               + switch_config_edits)

    plugin_edits, switch_plugin_edits = [], []
    for name, agent in plugin_agents.items():
        path = [PLUGIN_CONFIG_SECTION, "agents", name]
        edits = _leaves(path + ["model"], plugin[name]["model"])
        edits.append(_leaves(path + ["maxTokens"], plugin[name]["maxTokens"])[0] if "maxTokens" in plugin[name]
                     else _absent(path + ["maxTokens"]))
        (switch_plugin_edits if agent["tier"] == "orch" else plugin_edits).extend(edits)

    return {
        "primary": primary,
        "small_model": small_model,
        "providers": providers,
        "agents": agents,
        "plugin_agents": plugin,
        "config_edits": config_edits,
        "plugin_edits": plugin_edits,
        "switch_config_edits": switch_config_edits,
        "switch_plugin_edits": switch_plugin_edits,
    }


def opencode_targets(passwd, users, project_dirs):
    """The files the role manages: a pair per user (in their home) and per project directory.

    passwd is the getent passwd fact (name -> [password, uid, gid, gecos, home, shell]); project_dirs
    the stat results of the project directories (their owner owns the files).
    """
    missing = [user for user in users if user not in passwd]
    if missing:
        raise AnsibleFilterError("opencode_users: no such user(s): %s" % ", ".join(missing))
    targets = []
    for user in users:
        home = passwd[user][4].rstrip("/") or "/"
        targets.append(_target(home + "/.config/opencode", home + "/.omo", user, int(passwd[user][2])))
    for result in project_dirs:
        if not result["stat"].get("isdir"):
            raise AnsibleFilterError("opencode_project_dirs: %s is not a directory" % result["item"])
        directory = result["stat"]["path"].rstrip("/")
        targets.append(_target(directory, directory + "/.omo", result["stat"]["pw_name"], result["stat"]["gid"]))
    return targets


def _target(config_dir, plugin_dir, owner, group):
    return {"config_dir": config_dir, "config": config_dir + "/opencode.jsonc",
            "plugin_dir": plugin_dir, "plugin": plugin_dir + "/omo.jsonc", "owner": owner, "group": group}


class FilterModule(object):
    def filters(self):
        return {"opencode_layout": opencode_layout, "opencode_targets": opencode_targets}
