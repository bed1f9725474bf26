# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet behind one address: which boxes serve each tier at the gateway, and the OpenCode layout for it.

Reads the boxes' plans only (strix_plan of each box of the run). Touches nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import (
    served_tiers, switchable_layout, wait_ms)

NAME = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")


def pool(plans, addresses, gateway_address, default_timeout_s=1800):
    """The gateway's tiers from the boxes' plans ({box: strix_plan}) and their addresses ({box: address}).

    Returns {tiers: {tier: {port, served_name, timeout_s, parallel (the boxes' slots together), servers: [{name, address, port, parallel}]}},
    layout: the OpenCode layout at gateway_address (each tier's context and output the smallest of its boxes),
    problems: [...]}. A tier's timeout covers the longest prefill any of its boxes may
    take (twice the whole context at the tier's prompt rate, and a minute, as OpenCode waits), default_timeout_s
    where a box does not know its rate."""
    problems, tiers, merged, first = [], {}, {}, None
    if not plans:
        problems.append("gateway_boxes is empty: no box of the strix group was planned in this run (run site.yml "
                        "with the boxes in the limit, or name them in gateway_boxes)")
    if not gateway_address or not NAME.match(str(gateway_address)):
        problems.append("gateway_address must be a host name or IP address, got %r" % (gateway_address,))
    for box in sorted(plans):
        plan = plans[box] or {}
        address = (addresses or {}).get(box) or box
        if not plan.get("tiers"):
            problems.append("%s runs no tier (its strix_plan has none)" % box)
            continue
        if plan.get("loopback_only"):
            problems.append("%s listens on %s only (strix_bind_address): the gateway cannot reach it; set "
                            "strix_bind_address: 0.0.0.0 and strix_api_key on it" % (box, plan.get("bind_address")))
            continue
        first = first or plan
        for tier, spec in served_tiers(plan["tiers"]).items():
            entry = tiers.setdefault(tier, {"port": spec["port"], "served_name": spec["served_name"], "timeout_s": 0,
                                            "parallel": 0, "servers": []})
            if spec["served_name"] != entry["served_name"]:
                problems.append("tier %s serves %s on %s but %s on %s: the gateway sends a request to either, so "
                                "set the same strix_tiers.%s.served_name on every box" % (
                                    tier, spec["served_name"], box, entry["served_name"],
                                    entry["servers"][0]["name"], tier))
            wait = wait_ms(spec)
            entry["timeout_s"] = max(entry["timeout_s"], int(wait // 1000) if wait else int(default_timeout_s))
            entry["parallel"] += spec["parallel"]
            entry["servers"].append({"name": box, "address": address, "port": spec["port"],
                                     "parallel": spec["parallel"]})
            seen = merged.get(tier)
            # a request lands on one box: its wait is one box's (the busiest's), not the fleet's
            merged[tier] = dict(spec, port=entry["port"]) if seen is None else dict(
                seen, context=min(seen["context"], spec["context"]), output=min(seen["output"], spec["output"]),
                parallel=max(seen["parallel"], spec["parallel"]),
                prompt_tps=min(seen["prompt_tps"], spec["prompt_tps"]) if seen["prompt_tps"] and spec["prompt_tps"]
                else None)
    ports = {}
    for tier, entry in sorted(tiers.items()):
        ports.setdefault(entry["port"], []).append(tier)
    for port, names in sorted(ports.items()):
        if len(names) > 1:
            problems.append("tiers %s all listen on port %d at the gateway (their first box's port)"
                            % (" and ".join(names), port))
    layout = {}
    if first and not problems:
        inputs = first.get("opencode_inputs") or {}
        # the context the smallest box takes, at the gateway's address, with each user's own key
        layout = switchable_layout(merged, gateway_address, inputs.get("cloud_planner") or {},
                                   inputs.get("plugin_agents") or {}, None, api_key=True,
                                   phone_home=bool(inputs.get("phone_home")))
    return {"tiers": tiers, "layout": layout, "problems": problems}
