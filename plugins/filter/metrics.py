# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""health.yml's fleet view: Prometheus's answers as one line per box."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

TIERS = ("orch", "coder", "reviewer", "utility")


def _answers(results):
    """{name: data} from the looped uri results (each item {key: name}), the answers' JSON data."""
    found = {}
    for result in results or []:
        name = (result.get("item") or {}).get("key")
        body = result.get("json") or (json.loads(result["content"]) if result.get("content") else None)
        if not name or not body or body.get("status") != "success":
            raise AnsibleFilterError("metrics_fleet_table: Prometheus did not answer %s: %s"
                                     % (name, result.get("msg") or result.get("content") or "no answer"))
        found[name] = body["data"]
    return found


def metrics_fleet_table(results):
    answers = _answers(results)
    boxes = {}

    def row(box):
        return boxes.setdefault(box, {"tiers": {}, "generated": 0.0, "gpu": None, "swap": None, "kills": None,
                                      "pools": []})
    for sample in answers.get("tiers", {}).get("result", []):
        row(sample["metric"].get("box"))["tiers"][sample["metric"].get("tier")] = \
            "up" if sample["value"][1] == "1" else "DOWN"
    for sample in answers.get("generated", {}).get("result", []):
        row(sample["metric"].get("box"))["generated"] += float(sample["value"][1])
    for name in ("gpu", "swap", "kills"):
        for sample in answers.get(name, {}).get("result", []):
            row(sample["metric"].get("box"))[name] = float(sample["value"][1])
    for sample in answers.get("pools", {}).get("result", []):
        state = sample["metric"].get("state")
        if sample["metric"].get("server") in boxes and state != "UP":
            boxes[sample["metric"]["server"]]["pools"].append("%s %s" % (sample["metric"].get("proxy"), state))
    lines = ["%-16s %-36s %10s %8s %10s %7s  %s" % ("box", "tiers", "gen tok/s", "GPU mem", "swap used", "killed",
                                                    "gateway")]
    for box in sorted(b for b in boxes if b):
        r = boxes[box]
        tiers = " ".join("%s %s" % (t, r["tiers"][t]) for t in TIERS if t in r["tiers"]) or "-"
        lines.append("%-16s %-36s %10.1f %8s %10s %7s  %s" % (
            box, tiers, r["generated"], "%.0f %%" % (r["gpu"] * 100) if r["gpu"] is not None else "-",
            "%.1f GiB" % (r["swap"] / 1024.0 ** 3) if r["swap"] is not None else "-",
            "%d" % r["kills"] if r["kills"] is not None else "-", ", ".join(r["pools"]) or "in every pool"))
    firing = [a for a in answers.get("alerts", {}).get("alerts", []) if a.get("state") == "firing"]
    lines.append("alerts firing: %s" % (", ".join(sorted("%s (%s)" % (
        a["labels"].get("alertname"), " ".join(a["labels"][k] for k in ("box", "tier", "server") if k in a["labels"]))
        for a in firing)) or "none"))
    return lines


class FilterModule(object):
    def filters(self):
        return {"metrics_fleet_table": metrics_fleet_table}
