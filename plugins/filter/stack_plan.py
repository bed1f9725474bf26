# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tiers a startup mode runs, on which engine, and whether their memory fits the box."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Start order matters: the vLLM coder starts after the vLLM orchestrator is healthy (shared-memory race
# while vLLM profiles memory), and the CPU tiers start after the GPU tiers.
MODES = {
    "gpu": [("orch", "vllm"), ("coder", "vllm")],
    "cpu": [("reviewer", "llamacpp"), ("utility", "llamacpp")],
    "full": [("orch", "vllm"), ("coder", "vllm"), ("reviewer", "llamacpp"), ("utility", "llamacpp")],
    "hybrid-radv": [("coder", "vllm"), ("orch", "llamacpp")],
    "hybrid-rocm": [("coder", "vllm"), ("orch", "llamacpp")],
}
TIERS = ["orch", "coder", "reviewer", "utility"]
DEFAULT_ENGINE = {"orch": "vllm", "coder": "vllm", "reviewer": "llamacpp", "utility": "llamacpp"}


def stack_tiers(mode, enable=None, engine=None):
    """The tiers that run, as a dict tier -> engine in start order; with engine, only that engine's tiers.

    enable maps a tier to true (run it even when the mode does not) or false (do not run it)."""
    if mode not in MODES:
        raise AnsibleFilterError("strix_mode must be one of %s, got %r" % (", ".join(MODES), mode))
    enable = enable or {}
    if not isinstance(enable, dict):
        raise AnsibleFilterError("strix_tier_enable must be a dictionary of tier: true/false, got %r" % (enable,))
    unknown = sorted(set(enable) - set(TIERS))
    if unknown:
        raise AnsibleFilterError("strix_tier_enable names unknown tiers: %s (tiers: %s)"
                                 % (", ".join(unknown), ", ".join(TIERS)))
    plan = [(tier, eng) for tier, eng in MODES[mode] if enable.get(tier, True)]
    for tier in TIERS:
        if enable.get(tier) and tier not in dict(plan):
            plan.append((tier, DEFAULT_ENGINE[tier]))
    plan.sort(key=lambda item: (item[1] != "vllm", [t for t, e in MODES["full"]].index(item[0])))
    return dict((tier, eng) for tier, eng in plan if engine is None or eng == engine)


def stack_models(plan):
    """The models catalog entries a plan (from stack_tiers) needs: a tier's name, or orch_gguf for a
    llama.cpp orchestrator (the hybrid modes), whose model is a GGUF file and not vLLM's repository."""
    return ["orch_gguf" if (tier, engine) == ("orch", "llamacpp") else tier for tier, engine in plan.items()]


def memory_budget(rows, ram_mb, swap_mb):
    """Add up the tiers' memory (rows of tier, engine, what, mb) against RAM and swap.

    verdict: fits (in RAM), swap (only with swap), over (more than RAM and swap)."""
    try:
        ram_mb, swap_mb = int(ram_mb), int(swap_mb)
        rows = [dict(row, mb=int(row["mb"])) for row in rows]
    except (TypeError, ValueError, KeyError) as exc:
        raise AnsibleFilterError("memory_budget needs rows with an integer mb and integer RAM and swap: %s" % exc)
    total = sum(row["mb"] for row in rows)
    verdict = "fits" if total <= ram_mb else ("swap" if total <= ram_mb + swap_mb else "over")
    lines = ["%-9s %-9s %10s  %s" % ("tier", "engine", "memory", "what")]
    for row in rows:
        lines.append("%-9s %-9s %7.1f GiB  %s" % (row["tier"], row["engine"], row["mb"] / 1024.0, row.get("what", "")))
    lines.append("%-9s %-9s %7.1f GiB  RAM %.1f GiB, swap %.1f GiB: %s" % (
        "total", "", total / 1024.0, ram_mb / 1024.0, swap_mb / 1024.0,
        {"fits": "fits in RAM", "swap": "fits only with swap", "over": "more than RAM and swap"}[verdict]))
    return {"rows": rows, "total_mb": total, "ram_mb": ram_mb, "swap_mb": swap_mb, "verdict": verdict, "table": lines}


def meminfo_mb(text):
    """RAM and swap in MiB from the text of /proc/meminfo."""
    values = {}
    for line in text.splitlines():
        key, _sep, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[key.strip()] = int(fields[0]) // 1024
    if "MemTotal" not in values:
        raise AnsibleFilterError("meminfo_mb: no MemTotal in the text (not /proc/meminfo?)")
    return {"ram_mb": values["MemTotal"], "swap_mb": values.get("SwapTotal", 0)}


def vllm_memory_rows(settings, tiers, memory):
    """A budget row per vLLM tier: vLLM takes gpu_util of the memory for weights and KV cache."""
    return [{"tier": tier, "engine": "vllm", "mb": int(float(entry["gpu_util"]) * int(memory["ram_mb"])),
             "what": "%s: %s of the memory (weights + KV cache)" % (entry["model"], entry["gpu_util"])}
            for tier, entry in zip(tiers, settings)]


def llamacpp_memory_rows(settings, tiers, sizes):
    """A budget row per llama.cpp tier: the GGUF file (loaded, not mapped) plus its KV cache at full context."""
    rows = []
    for tier, entry, size in zip(tiers, settings, sizes):
        kv_mb = int(entry["ctx"]) * int(entry["kv_bytes_per_token"]) // (1024 * 1024)
        rows.append({"tier": tier, "engine": "llamacpp", "mb": int(size) // (1024 * 1024) + kv_mb,
                     "what": "%s: %.1f GiB weights + %.1f GiB KV cache at %s tokens" % (
                         entry["gguf"], int(size) / 1024.0 ** 3, kv_mb / 1024.0, entry["ctx"])})
    return rows


class FilterModule(object):
    def filters(self):
        return {"stack_tiers": stack_tiers, "stack_models": stack_models, "memory_budget": memory_budget, "meminfo_mb": meminfo_mb,
                "vllm_memory_rows": vllm_memory_rows, "llamacpp_memory_rows": llamacpp_memory_rows}
