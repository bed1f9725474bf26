# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What OpenCode's opencode.jsonc and the plugin's omo.jsonc hold on a box, derived from the tiers it runs.

One function decides it: the template renders it on first deployment and the opencode role keeps the
same values in place afterwards, so the two cannot drift apart. The plan filter calls it, so the
configuration follows the plan: a provider and an agent for each tier the box runs, and nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

TIERS = ("orch", "coder", "reviewer", "utility")
# Which running tier the primary agent uses when the box runs no orchestrator: the strongest first.
PRIMARY_ORDER = ("orch", "reviewer", "coder", "utility")
AGENT_ROLES = {
    "orch": "Orchestrator: plans, coordinates and delegates",
    "coder": "Code generation and tool use",
    "reviewer": "Escalation, deep review and architecture",
    "utility": "Fast utility tasks and summaries",
}
PLUGIN_CONFIG_SECTION = "[opencode]"
PRIMARY_AGENT = "primary"
# -e orch=: the cloud planner, or the box's own primary tier (vllm is the name of old; local says it).
ORCH_CHOICES = ("cloud", "local", "vllm")


def tier_ref(tier):
    """The provider/model reference OpenCode uses for a local tier, e.g. local_orch/orch."""
    return "local_%s/%s" % (tier, tier)


def check(served, cloud, plugin_agents, orch):
    """Problems with the OpenCode inputs, as sentences naming the variable."""
    problems = []
    for name, tier in sorted(plugin_agents.items()):
        if tier not in TIERS:
            problems.append("strix_plugin_agents.%s must name a tier (%s), got %r" % (name, ", ".join(TIERS), tier))
    if orch not in (None, "") + ORCH_CHOICES:
        problems.append("orch must be cloud or local (vllm), got %r" % (orch,))
    if orch == "cloud" and not cloud.get("model"):
        problems.append("orch=cloud needs strix_cloud_planner.model, the cloud planner's model (e.g. gpt-5)")
    if orch in ("local", "vllm") and not served:
        problems.append("orch=%s needs a local tier, and this box runs none" % orch)
    if not served and not cloud.get("model"):
        problems.append("OpenCode has no model to use: the box runs no tier and strix_cloud_planner.model is unset")
    return problems


# Where OpenCode reads the tiers' API key from, when they take one: a file in the user's own configuration
# directory (0600), never the key itself in opencode.jsonc.
API_KEY_REF = "{file:~/.config/opencode/strix-api-key}"


def wait_ms(spec):
    """How long OpenCode waits for a tier's first byte, and between streamed chunks (a long prompt is read before the
    first one): twice the time the tier takes to read every sequence's whole context at its prompt rate, and a
    minute. False, no timeout, when the rate is unknown: OpenCode's own 5 minutes cut a long local prompt off."""
    if not spec.get("prompt_tps"):
        return False
    return int((2.0 * spec["context"] * spec.get("parallel", 1) / spec["prompt_tps"] + 60) * 1000)


def _provider(tier, spec, host, api_key=False):
    wait = wait_ms(spec)
    return {
        "npm": "@ai-sdk/openai-compatible",
        "name": spec["title"],
        # a whole answer takes as long as it takes: no timeout for the full request
        "options": {"baseURL": "http://%s:%d/v1" % (host, spec["port"]), "apiKey": API_KEY_REF if api_key else "local",
                    "headerTimeout": wait, "chunkTimeout": wait, "timeout": False},
        "models": {tier: {
            "id": spec["served_name"],
            "name": spec["served_name"],
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


def opencode_layout(served, host="127.0.0.1", cloud=None, plugin_agents=None, orch=None, api_key=False,
                    phone_home=False):
    """Everything the opencode role writes, as data.

    served maps each tier the box runs to {title, port, served_name, context, output, parallel, prompt_tps};
    plugin_agents maps an oh-my-openagent agent to the tier it runs on. phone_home (strix_phone_home) lets OpenCode
    share sessions and update itself, and the plugin send telemetry and update itself. Returns a dict:
      primary        the primary agent's model for this run; local_primary: the box's own choice
      default_agent  the agent OpenCode starts a session on
      small_model    the model for titles and summaries
      providers, agents, plugin_agents   for the first render
      config_edits / plugin_edits        what every run keeps in place (not the orchestrator's values)
      switch_config_edits / switch_plugin_edits   the orchestrator's values, applied with -e orch=
    """
    cloud = dict(cloud or {})
    plugin_agents = plugin_agents or {}
    orch = orch or None
    enabled = [t for t in TIERS if t in served]
    cloud_ref = "cloud_planner/%s" % cloud["model"] if cloud.get("model") else None
    primary_tier = next((t for t in PRIMARY_ORDER if t in served), None)
    local_primary = tier_ref(primary_tier) if primary_tier else None
    default_primary = tier_ref("orch") if "orch" in served else (cloud_ref or local_primary)
    primary = {"cloud": cloud_ref, "local": local_primary, "vllm": local_primary}.get(orch, default_primary)

    def agent_tier(tier):
        """The tier an agent of this tier runs on: its own, or the primary's when the box lacks it."""
        return tier if tier in served else primary_tier

    providers = dict(("local_%s" % t, _provider(t, served[t], host, api_key)) for t in enabled)
    if cloud_ref:
        providers["cloud_planner"] = _cloud_provider(cloud)
    agents = {PRIMARY_AGENT: {"mode": "primary", "model": primary, "description": AGENT_ROLES["orch"]}}
    for tier in enabled:
        if tier != "orch":
            agents[tier] = {"mode": "subagent", "model": tier_ref(tier), "description": AGENT_ROLES[tier]}

    plugin = {}
    for name, tier in plugin_agents.items():
        if tier == "orch":
            model, cap_tier = primary, primary_tier if primary != cloud_ref else None
        else:
            cap_tier = agent_tier(tier)
            model = tier_ref(cap_tier) if cap_tier else cloud_ref
        plugin[name] = {"model": model}
        if cap_tier and model != cloud_ref:
            plugin[name]["maxTokens"] = served[cap_tier]["output"]

    config_edits = []
    for name, provider in providers.items():
        if name == "cloud_planner":
            config_edits += _leaves(["provider", name, "npm"], provider["npm"])
            config_edits += _leaves(["provider", name, "options"], provider["options"])
            config_edits += _leaves(["provider", name, "models", cloud["model"]], {})
        else:
            config_edits += _leaves(["provider", name, "options", "baseURL"], provider["options"]["baseURL"])
            for option in ("apiKey", "headerTimeout", "chunkTimeout", "timeout"):
                config_edits += _leaves(["provider", name, "options", option], provider["options"][option])
            config_edits += _leaves(["provider", name, "models"], provider["models"])
    for tier in TIERS:
        if tier not in served:
            config_edits.append(_absent(["provider", "local_%s" % tier]))
            if tier != "orch":
                config_edits.append(_absent(["agent", tier]))
    for name, agent in agents.items():
        if name != PRIMARY_AGENT:
            config_edits += _leaves(["agent", name, "mode"], agent["mode"])
            config_edits += _leaves(["agent", name, "model"], agent["model"])
    small_model = tier_ref("utility") if "utility" in served else default_primary
    config_edits += _leaves(["small_model"], small_model)
    config_edits += _leaves(["default_agent"], PRIMARY_AGENT)
    privacy = {"share": "manual" if phone_home else "disabled", "autoupdate": bool(phone_home)}
    # the plugin's remote MCP servers (web search by Exa, Context7's documents, grep.app's code search) send the
    # agent's queries out; codegraph downloads its binary from GitHub and reports telemetry
    plugin_privacy = {
        "telemetry": bool(phone_home), "auto_update": bool(phone_home),
        "disabled_mcps": [] if phone_home else ["websearch", "context7", "grep_app"],
        # the comment checker, ast-grep's provisioning and codegraph's bootstrap download binaries from GitHub at
        # start; the update checker asks npm
        "disabled_hooks": [] if phone_home else ["comment-checker", "ast-grep-sg-provision", "codegraph-bootstrap",
                                                 "auto-update-checker"],
        "codegraph": dict((key, bool(phone_home))
                          for key in ("enabled", "auto_init", "auto_provision", "daemon", "telemetry")),
    }
    for key, value in privacy.items():
        config_edits += _leaves([key], value)

    # The primary agent's model: set on every run only when it cannot stay (its tier is gone); otherwise
    # it is the switch's, so that -e orch=cloud survives a converge.
    switch_config_edits = _leaves(["model"], primary) + _leaves(["agent", PRIMARY_AGENT, "model"], primary)
    if orch == "cloud":
        switch_config_edits = (_leaves(["provider", "cloud_planner", "npm"], cloud["npm"])
                               + _leaves(["provider", "cloud_planner", "options"], _cloud_provider(cloud)["options"])
                               + _leaves(["provider", "cloud_planner", "models", cloud["model"]], {})
                               + switch_config_edits)

    plugin_edits, switch_plugin_edits = [], []
    # in the plugin's OpenCode section: omo.jsonc's top level takes only its own keys, and rejects the whole file else
    for key, value in plugin_privacy.items():
        plugin_edits += _leaves([PLUGIN_CONFIG_SECTION, key], value)
    for name, tier in plugin_agents.items():
        path = [PLUGIN_CONFIG_SECTION, "agents", name]
        edits = _leaves(path + ["model"], plugin[name]["model"])
        edits.append(_leaves(path + ["maxTokens"], plugin[name]["maxTokens"])[0] if "maxTokens" in plugin[name]
                     else _absent(path + ["maxTokens"]))
        (switch_plugin_edits if tier == "orch" else plugin_edits).extend(edits)

    return {
        "primary": primary,
        "local_primary": local_primary,
        "default_agent": PRIMARY_AGENT,
        "small_model": small_model,
        "privacy": privacy,
        "plugin_privacy": plugin_privacy,
        "providers": providers,
        "agents": agents,
        "plugin_agents": plugin,
        "config_edits": config_edits,
        "plugin_edits": plugin_edits,
        "switch_config_edits": switch_config_edits,
        "switch_plugin_edits": switch_plugin_edits,
    }


def switch_problem(layout, orch, where):
    """What stops -e orch=<orch> on a layout (a box's, or the one a workstation got from its box), or "". The
    switch's choices are the layout's: local when the box runs a tier, cloud when it has a cloud planner."""
    if not orch:
        return ""
    if orch not in ORCH_CHOICES:
        return "orch must be cloud or local (vllm), got %r" % (orch,)
    choices = sorted((layout or {}).get("switch") or {})
    if {"vllm": "local"}.get(orch, orch) in choices:
        return ""
    return "orch=%s: %s (%s); the choices there are %s" % (
        orch, "strix_cloud_planner.model is unset for the box" if orch == "cloud" else "the box runs no tier", where,
        ", ".join(choices) or "none")


def served_tiers(tiers):
    """What OpenCode needs of each planned tier (strix_plan.tiers): {tier: {title, port, served_name, ...}}."""
    return dict((t["tier"], {"title": t["title"], "port": t["port"], "served_name": t["served_name"],
                             "context": t["context"], "output": t["output"], "parallel": t["parallel"],
                             "prompt_tps": t.get("prompt_tps")}) for t in tiers)


def switchable_layout(served, host, cloud, plugin_agents, orch, api_key=False, phone_home=False):
    """opencode_layout, with the switch's edits for each choice (so a converge keeps the choice a file already
    holds) and the choice a new file starts with."""
    layout = opencode_layout(served, host, cloud, plugin_agents, orch, api_key, phone_home)
    layout["switch"] = dict(
        (choice, dict((k, opencode_layout(served, host, cloud, plugin_agents, choice, api_key, phone_home)[k])
                      for k in ("primary", "switch_config_edits", "switch_plugin_edits")))
        for choice in (["local"] if served else []) + (["cloud"] if (cloud or {}).get("model") else []))
    layout["default_choice"] = "cloud" if opencode_layout(served, host, cloud, plugin_agents)["primary"] == \
        layout["switch"].get("cloud", {}).get("primary") else "local"
    return layout
