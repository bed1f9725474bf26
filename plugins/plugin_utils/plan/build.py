# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the stack on one box, and the models a description needs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import (
    check as check_opencode, served_tiers, switchable_layout)
from ansible_collections.strix.opencode.plugins.plugin_utils.plan import description as desc
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import (
    MIB, PlanError, Problems, api_key_files, is_loopback, loopback, plain)
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.containers import container
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import ENGINES
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.ledger import check_budget, ledger
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.models import model_info, resolve


def _tier(d, tier, settings, facts, problems):
    """The tier's entry in the plan, or None when it has a problem (all its problems are reported)."""
    before = len(problems)
    model = resolve(d, tier, settings, problems) if desc.check_tier(d, tier, settings, problems) else None
    if model is None:
        return None
    found = dict((c["path"], c) for c in facts.get("models") or []).get(model["path"], {})
    model.update(size=found.get("size"), would_download=int(found.get("would_download") or 0),
                 reason=found.get("reason", ""))
    if model["source"] == "local" and found and not found.get("exists"):
        problems.add("strix_tiers.%s.model.path: %s is not on the box", tier, model["path"])
    if len(problems) > before:
        return None
    info = model_info(tier, settings, model, (facts.get("model_facts") or {}).get(model["path"]), problems)
    if len(problems) > before:
        return None
    try:
        box = container(d, tier, settings, model, info, problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.add("strix_tiers.%s: cannot build its command line (%s)", tier, exc)
        return None
    gpu_backend = ENGINES[settings["engine"]].BACKENDS and settings["device"] == "gpu"
    return {"tier": tier, "engine": settings["engine"], "device": settings["device"],
            "backend": settings.get("backend") if gpu_backend else None, "title": settings.get("title") or tier,
            "port": settings["port"], "context": settings["context"], "output": settings["output"],
            "parallel": settings["parallel"], "health_timeout": settings["health_timeout"],
            "prompt_tps": settings.get("prompt_tps") or None,
            "served_name": box.pop("served_name"), "url": box.pop("url"), "model": model,
            "api_key_file": (api_key_files(d) or {}).get("key"), "facts": info, "container": box,
            "settings": settings}


def _downloads(d, tiers, facts, problems):
    downloads = []
    for tier in tiers:
        model = tier["model"]
        if model["source"] == "hub" and model["path"] not in [m["path"] for m in downloads]:
            downloads.append(dict((k, v) for k, v in model.items() if k != "size"))
    total = sum(m["would_download"] for m in downloads)
    free = facts.get("free_bytes")
    margin = int(d.get("free_space_margin_mb") or 0) * MIB
    if total and free is not None and int(free) < total + margin:
        problems.add("the models do not fit in %s: %.1f GiB to download (%s) plus the %d MiB margin "
                     "(strix_models_free_space_margin_mb), but %.1f GiB free. Nothing was downloaded",
                     d.get("models_dir"), total / 1024.0 ** 3,
                     ", ".join("%s (%s)" % (m["path"], m["reason"]) for m in downloads if m["would_download"]),
                     margin // MIB, int(free) / 1024.0 ** 3)
    return downloads, total


def _opencode(d, tiers, problems):
    served = served_tiers(tiers)
    cloud, agents, orch = d.get("cloud_planner") or {}, d.get("plugin_agents") or {}, d.get("orch") or None
    found = check_opencode(served, cloud, agents, orch)
    if d.get("switching") and not orch:
        found.append("--tags switch_orch needs -e orch=local (or vllm) or -e orch=cloud")
    problems.extend(found)
    if found:
        return {}
    return switchable_layout(served, loopback(d.get("bind_address", "127.0.0.1")), cloud, agents, orch,
                             api_key=bool(api_key_files(d)), phone_home=bool(d.get("phone_home")))


def plan(d, facts=None):
    """The plan of the stack on one box: tiers in start order with their exact containers, the downloads, the
    memory ledger, the OpenCode layout, and every problem. Fields: plugins/filter/strix_plan.yml."""
    if not isinstance(d, Mapping):
        raise PlanError("strix_plan needs the stack description as a dictionary")
    d, facts, problems = plain(d), plain(facts or {}), Problems()
    desc.check_stack(d, problems)
    tiers, by_engine = [], dict((name, []) for name in ENGINES)
    for tier, placement in desc.placed_tiers(d, problems):
        settings = desc.tier_settings(d, tier, placement, problems)
        by_engine.get(settings.get("engine"), []).append((tier, settings))
        entry = _tier(d, tier, settings, facts, problems)
        if entry:
            tiers.append(entry)
    ports = {}
    for tier in tiers:
        ports.setdefault(tier["port"], []).append(tier["tier"])
    for port, names in sorted(ports.items()):
        if len(names) > 1:
            problems.add("strix_tiers: %s all listen on port %d", " and ".join(names), port)
    memory = ledger(d, tiers, facts)
    for name, engine in ENGINES.items():
        engine.check_together(by_engine[name], d, problems, memory)
    check_budget(d, memory, problems)
    downloads, download_bytes = _downloads(d, tiers, facts, problems)
    opencode = _opencode(d, tiers, problems)
    for tier in tiers:
        tier.pop("settings")
    return {
        "stack": d.get("stack_name"),
        # Where the tiers' API key is kept on the box ({key, env}), or None: the tiers take none.
        "api_key": api_key_files(d), "mode": d.get("mode"), "network_mode": d.get("network_mode"),
        "bind_address": d.get("bind_address"), "tiers": tiers,
        # whether the tiers answer the box alone (a workstation cannot use them)
        "loopback_only": is_loopback(d.get("bind_address", "127.0.0.1")),
        "containers": dict((t["tier"], t["container"]["name"]) for t in tiers),
        "downloads": downloads, "download_bytes": download_bytes, "ledger": memory,
        # Tiers whose model states no trained context yet (not on the box, not in the catalog): the plan role
        # plans again once the models are downloaded, before any tier starts.
        "unchecked": [t["tier"] for t in tiers if not t["facts"]["trained_context"]],
        "opencode": opencode,
        # what the layout was made from besides the tiers: a gateway makes the fleet's layout from the same
        "opencode_inputs": {"cloud_planner": d.get("cloud_planner") or {}, "plugin_agents": d.get("plugin_agents") or {},
                            "phone_home": bool(d.get("phone_home"))},
        "problems": list(problems),
    }


def models(d):
    """The models the description needs, one per distinct path, with the tiers it serves: source hub (to download)
    or local (already on the box). Problems are left to plan(); a tier whose model is unusable is left out here."""
    d, problems, downloads = plain(d), Problems(), {}
    for tier, placement in desc.placed_tiers(d, problems):
        settings = desc.tier_settings(d, tier, placement, problems)
        if settings.get("engine") not in ENGINES:
            continue
        model = resolve(d, tier, settings, problems)
        if model:
            entry = downloads.setdefault(model["path"], dict(model, tiers=[]))
            entry["tiers"].append(tier)
    return list(downloads.values())
