# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is wrong with an opencode.jsonc on a box: a model that names no provider, or a provider on the box's own
address whose port no running tier serves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


def opencode_problems(config, tiers):
    """What is wrong with one parsed opencode.jsonc: a model that names no provider, or a provider on the
    box's own address whose port no running tier serves. tiers: [{tier, port, state}]."""
    problems = []
    providers = config.get("provider") or {}
    ports = dict((int(t["port"]), t) for t in tiers)
    for name, provider in sorted(providers.items()):
        url = ((provider or {}).get("options") or {}).get("baseURL") or ""
        match = re.match(r"^https?://(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)(?::(\d+))?", url)
        if not match:
            continue
        port = int(match.group(2) or 80)
        if port not in ports:
            problems.append("provider %s points at port %d, where no tier of the plan runs" % (name, port))
        elif ports[port]["state"] != "healthy":
            problems.append("provider %s points at the %s tier, which is %s"
                            % (name, ports[port]["tier"], ports[port]["state"]))
    refs = [("model", config.get("model")), ("small_model", config.get("small_model"))]
    refs += [("agent %s" % name, (agent or {}).get("model")) for name, agent in sorted((config.get("agent") or {}).items())]
    for where, ref in refs:
        if not ref:
            continue
        provider, model = (str(ref).split("/", 1) + [""])[:2]
        if provider not in providers:
            problems.append("%s names provider %s, which is not configured" % (where, provider))
        elif model not in ((providers[provider] or {}).get("models") or {}):
            problems.append("%s names model %s, which provider %s does not list" % (where, model, provider))
    return problems
