# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The memory ledger: a row per tier from the models' own figures (its engine says how it counts), totals
against RAM + swap and, for the GPU tiers, against the GPU memory the box reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import MIB, PlanError, gib
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.containers import tier_kv_mb
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import ENGINES
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.render import ledger_table

VERDICTS = {"fits": "fits in RAM", "swap": "fits only with swap", "over": "more than RAM and swap"}


def meminfo_mb(text):
    """RAM and swap in MiB from the text of /proc/meminfo."""
    values = {}
    for line in text.splitlines():
        key, _sep, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0]) // 1024
    if "MemTotal" not in values:
        raise PlanError("meminfo_mb: no MemTotal in the text (not /proc/meminfo?)")
    return {"ram_mb": values["MemTotal"], "swap_mb": values.get("SwapTotal", 0)}


def ledger(d, tiers, facts):
    ram, swap = int(facts.get("ram_mb") or 0), int(facts.get("swap_mb") or 0)
    gpu_mb = int(facts.get("gpu_mb") or 0) or None
    reserve = int(d.get("os_reserve_mb") or 0)
    rows = []
    for tier in tiers:
        s, info = tier["settings"], tier["facts"]
        weights = int(info["weights_bytes"]) // MIB if info.get("weights_bytes") else None
        kv = tier_kv_mb(s, info)
        parts = "%s weights + %s KV (%d tokens x %d)" % (gib(weights) if weights is not None else "unknown",
                                                         gib(kv) if kv is not None else "unknown", s["context"],
                                                         s["parallel"])
        row = {"tier": tier["tier"], "engine": s["engine"], "device": s["device"], "weights_mb": weights, "kv_mb": kv}
        row.update(ENGINES[s["engine"]].ledger_row(s, {
            "weights": weights, "kv": kv, "parts": parts, "gpu_mb": gpu_mb, "ram_mb": ram,
            "activations": int(d.get("vllm_activation_reserve_mb") or 0)}))
        rows.append(row)
    if reserve:
        rows.append({"tier": "host", "engine": "-", "device": "cpu", "mb": reserve,
                     "what": "reserve for the OS (strix_os_reserve_mb)"})
    total = sum(row["mb"] for row in rows)
    gpu_total = sum(row["mb"] for row in rows if row["device"] == "gpu")
    verdict = "fits" if total <= ram else ("swap" if total <= ram + swap else "over")
    out = {"rows": rows, "total_mb": total, "gpu_total_mb": gpu_total, "ram_mb": ram, "swap_mb": swap,
           "gpu_mb": gpu_mb, "verdict": verdict}
    out["table"] = ledger_table(out, VERDICTS[verdict])
    return out


def check_budget(d, ledger_, problems):
    """The tiers against RAM and swap, and the GPU tiers against the GPU memory (unless strix_memory_budget_enforce
    is false)."""
    if not d.get("memory_budget_enforce", True):
        return
    if ledger_["verdict"] == "over":
        problems.add("the tiers need %.1f GiB, more than RAM and swap (%.1f GiB): %s. Run fewer tiers "
                     "(strix_mode, strix_tier_enable) or smaller contexts, or set strix_memory_budget_enforce to "
                     "false", ledger_["total_mb"] / 1024.0, (ledger_["ram_mb"] + ledger_["swap_mb"]) / 1024.0,
                     " | ".join(ledger_["table"]))
    if ledger_["gpu_mb"] and ledger_["gpu_total_mb"] > int(ledger_["gpu_mb"]):
        problems.add("the GPU tiers need %.1f GiB, more than the %.1f GiB of GPU memory the box reports",
                     ledger_["gpu_total_mb"] / 1024.0, int(ledger_["gpu_mb"]) / 1024.0)
