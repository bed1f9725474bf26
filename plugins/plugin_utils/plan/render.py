# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan as a person reads it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def ledger_table(ledger, verdict):
    """The ledger's rows and totals as lines of text."""
    lines = ["%-9s %-9s %-4s %10s  %s" % ("tier", "engine", "on", "memory", "what")]
    for row in ledger["rows"]:
        lines.append("%-9s %-9s %-4s %6.1f GiB  %s"
                     % (row["tier"], row["engine"], row["device"], row["mb"] / 1024.0, row["what"]))
    lines.append("%-9s %-9s %-4s %6.1f GiB  against RAM %.1f GiB + swap %.1f GiB: %s" % (
        "total", "", "", ledger["total_mb"] / 1024.0, ledger["ram_mb"] / 1024.0, ledger["swap_mb"] / 1024.0, verdict))
    if ledger["gpu_mb"]:
        lines.append("%-9s %-9s %-4s %6.1f GiB  against GPU memory %.1f GiB"
                     % ("gpu", "", "", ledger["gpu_total_mb"] / 1024.0, ledger["gpu_mb"] / 1024.0))
    return lines


def plan_text(plan):
    """One block per tier, then the memory ledger, OpenCode's agents and every problem."""
    lines = ["stack %s, mode %s: %s" % (plan.get("stack"), plan.get("mode"),
                                        ", ".join(t["tier"] for t in plan.get("tiers", [])) or "no tier")]
    for tier in plan.get("tiers", []):
        box, model = tier["container"], tier["model"]
        on = tier["device"] + ("/" + tier["backend"] if tier.get("backend") else "")
        lines.append("%s: %s on %s, port %d, %s, context %d x %d, output %d" % (
            tier["tier"], tier["engine"], on, tier["port"], tier["served_name"], tier["context"], tier["parallel"],
            tier["output"]))
        lines.append("  image   %s" % box["image"])
        lines.append("  model   %s%s" % (model["path"], (" (download %.2f GiB: %s)" % (
            model["would_download"] / 1024.0 ** 3, model["reason"])) if model.get("would_download") else ""))
        lines.append("  command %s" % " ".join(box["entrypoint"] + box["command"]))
    lines.append("memory:")
    lines.extend("  " + line for line in plan.get("ledger", {}).get("table", []))
    opencode = plan.get("opencode") or {}
    if opencode:
        lines.append("opencode: primary %s (default agent %s), small model %s, providers %s" % (
            opencode["primary"], opencode["default_agent"], opencode["small_model"], ", ".join(opencode["providers"])))
    for problem in plan.get("problems", []):
        lines.append("PROBLEM: " + problem)
    return lines
