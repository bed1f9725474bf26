# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures of playbooks/bench.yml: the results file of one box's run, the comparison with its previous run,
the tables (one box; the engines side by side; the fleet).

bench_cases(plan, prompt_tokens, tiers, concurrency)   what to measure: tier x prompt length x concurrency
bench_document(results, plan, record, box, ...)        the results file of one run
bench_compare(document, previous, threshold)            regressions against the previous run of each case
bench_table(document)                                   the run as lines
bench_engines_table(documents)                          a tier's figures under each engine, with a recommendation
bench_fleet_table(documents)                            boxes down, tiers and figures across
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# The figures compared between runs: all "higher is better".
METRICS = ("pp_tps", "gen_tps", "agg_gen_tps")


def bench_list(value):
    """A list from a list, one value, or comma-separated text (what -e gives): -e bench_engines=vllm,llamacpp."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def bench_cases(plan, prompt_tokens, tiers=None, concurrency=None):
    """Each tier of the plan (or those named) at each prompt length, at one request and at its parallel sequences
    (or the concurrency levels given), skipping prompts its context cannot take."""
    chosen = [t for t in plan.get("tiers", []) if not tiers or t["tier"] in tiers]
    unknown = sorted(set(tiers or []) - set(t["tier"] for t in plan.get("tiers", [])))
    if unknown:
        raise AnsibleFilterError("bench_tiers names %s, not run on this box (it runs %s)"
                                 % (", ".join(unknown), ", ".join(t["tier"] for t in plan.get("tiers", [])) or "none"))
    cases = []
    for tier in chosen:
        levels = sorted(set(concurrency or [1, tier["parallel"]]))
        for length in prompt_tokens:
            if length >= tier["context"]:
                continue
            for level in levels:
                cases.append({"tier": tier["tier"], "engine": tier["engine"], "url": tier["url"],
                              "model": tier["served_name"], "prompt_tokens": int(length), "concurrency": int(level)})
    return cases


def _key(tier, case, gen_tokens):
    return (tier["tier"], tier["engine"], tier["model"], tier["context"], tier["parallel"], case["prompt_tokens"],
            case["concurrency"], gen_tokens)


def bench_document(results, plan, record, box, started, settings):
    """The results file of one run: per tier what produced the figures (engine, image and digest, model, revision,
    quantisation, flags, context) and the figures of each case."""
    tiers = {}
    for result in results:
        case = result["item"]
        tier = [t for t in plan["tiers"] if t["tier"] == case["tier"]][0]
        ran = (record or {}).get(tier["tier"], {})
        entry = tiers.setdefault(tier["tier"], {
            "tier": tier["tier"], "engine": tier["engine"], "device": tier["device"],
            "image": tier["container"]["image"], "image_id": ran.get("image_id", ""), "digest": ran.get("digest", ""),
            "model": tier["served_name"], "model_path": tier["model"]["path"],
            "model_repo": tier["model"].get("repo_id", ""), "model_revision": tier["model"].get("revision", ""),
            "model_sha256": tier["model"].get("sha256", ""),
            "quantisation": _quantisation(tier), "context": tier["context"], "parallel": tier["parallel"],
            "command": tier["container"]["entrypoint"] + tier["container"]["command"], "cases": []})
        entry["cases"].append({"prompt_tokens": case["prompt_tokens"], "concurrency": case["concurrency"],
                               "summary": result["summary"], "runs": result["runs"], "batches": result["batches"]})
    return {"format": 1, "box": box, "started": started, "settings": settings, "tiers": list(tiers.values())}


def _quantisation(tier):
    """A GGUF's quantisation from its file name (Q4_K_M, Q8_0, ...); a snapshot's dtype is 'as published'."""
    if tier["engine"] == "vllm":
        return "as published (safetensors)"
    name = tier["model"]["path"].rsplit("/", 1)[-1].rsplit(".gguf", 1)[0]
    for sep in ("-", "."):
        tail = name.rsplit(sep, 1)[-1]
        if tail.upper().startswith(("Q", "IQ", "F16", "BF16", "F32")):
            return tail.upper()
    return "unknown"


def bench_compare(document, previous, threshold=0.10):
    """Each case's median figures against the newest earlier run that measured the same tier and configuration
    (previous: one run or a list of runs); a drop beyond the threshold (a share, 0.10 = 10 %) is a regression."""
    threshold = float(threshold)
    gen = (document.get("settings") or {}).get("gen_tokens")
    earlier = previous if isinstance(previous, list) else [previous] if previous else []
    before = {}
    for run in sorted(earlier, key=lambda r: r.get("started") or ""):
        for tier in run.get("tiers", []):
            for case in tier["cases"]:
                # newer runs replace older ones
                key = _key(tier, case, (run.get("settings") or {}).get("gen_tokens"))
                before[key] = (run.get("started"), case["summary"])
    rows = []
    for tier in document.get("tiers", []):
        for case in tier["cases"]:
            started, old = before.get(_key(tier, case, gen), (None, None))
            if old is None:
                continue
            for metric in METRICS:
                was, now = (old.get(metric) or {}).get("median"), (case["summary"].get(metric) or {}).get("median")
                if not was or now is None:
                    continue
                change = (now - was) / was
                rows.append({"tier": tier["tier"], "prompt_tokens": case["prompt_tokens"],
                             "concurrency": case["concurrency"], "metric": metric, "before": was, "now": now,
                             "change": round(change, 4), "regression": change < -threshold, "previous": started})
    return {"compared": bool(rows), "previous": max([r["previous"] for r in rows] or [None], key=lambda v: v or ""),
            "threshold": threshold, "rows": rows, "regressions": [r for r in rows if r["regression"]]}


def _fmt(spread):
    if not spread or spread.get("median") is None:
        return "-"
    return "%.1f (%.1f-%.1f)" % (spread["median"], spread["min"], spread["max"])


def bench_table(document, comparison=None):
    """One run as lines: per tier and case, median (min-max) of TTFT, prompt and generation rates."""
    columns = ("tier", "engine", "prompt", "x", "ttft ms", "prompt tok/s", "gen tok/s per request", "gen tok/s all")
    lines = ["%-9s %-8s %6s %3s  %-22s %-24s %-22s %-20s" % columns]
    for tier in document.get("tiers", []):
        for case in tier["cases"]:
            s = case["summary"]
            lines.append("%-9s %-8s %6d %3d  %-22s %-24s %-22s %-20s" % (
                tier["tier"], tier["engine"], case["prompt_tokens"], case["concurrency"], _fmt(s["ttft_ms"]),
                _fmt(s["pp_tps"]), _fmt(s["gen_tps"]), _fmt(s["agg_gen_tps"])))
    if comparison is not None:
        if not comparison["compared"]:
            lines.append("no earlier run of these tiers and settings to compare with")
        else:
            lines.append("against the previous run of each (a regression is a drop of more than %.0f %%):"
                         % (comparison["threshold"] * 100))
            for row in comparison["rows"]:
                lines.append("  %-9s %6d x%-3d %-12s %10.1f -> %10.1f  %+6.1f %%  (run of %s)%s" % (
                    row["tier"], row["prompt_tokens"], row["concurrency"], row["metric"], row["before"], row["now"],
                    row["change"] * 100, row["previous"], "  REGRESSION" if row["regression"] else ""))
    return lines


def bench_engines_table(documents):
    """The same tiers measured under several engines on one box: the figures side by side and, per tier, the
    engine that is faster for one user (generation at one request) and for many (aggregate at the most requests)."""
    by_tier = {}
    for document in documents:
        for tier in document.get("tiers", []):
            by_tier.setdefault(tier["tier"], []).append(tier)
    lines = []
    for name, tiers in sorted(by_tier.items()):
        lines.append("%s:" % name)
        best_one, best_many = None, None
        for tier in tiers:
            for case in tier["cases"]:
                s = case["summary"]
                lines.append("  %-8s %6d x%-3d gen/request %-22s all %-22s prompt %s" % (
                    tier["engine"], case["prompt_tokens"], case["concurrency"], _fmt(s["gen_tps"]),
                    _fmt(s["agg_gen_tps"]), _fmt(s["pp_tps"])))
                one = (s["gen_tps"] or {}).get("median") if case["concurrency"] == 1 else None
                many = (s["agg_gen_tps"] or {}).get("median")
                if one is not None and (best_one is None or one > best_one[1]):
                    best_one = (tier["engine"], one)
                if many is not None and (best_many is None or (case["concurrency"], many) > best_many[1:]):
                    best_many = (tier["engine"], case["concurrency"], many)
        if best_one:
            lines.append("  one user: %s (%.1f tokens/s)" % best_one)
        if best_many:
            lines.append("  %d at once: %s (%.1f tokens/s in all)" % (best_many[1], best_many[0], best_many[2]))
    return lines


def bench_fleet_table(documents):
    """Boxes down the side; per tier its median generation rate at one request and its prompt rate, across."""
    tiers = []
    for document in documents:
        for tier in document.get("tiers", []):
            if tier["tier"] not in tiers:
                tiers.append(tier["tier"])
    header = "%-16s" % "box" + "".join(" %-28s" % ("%s gen/pp tok/s" % t) for t in tiers)
    lines = [header]
    for document in documents:
        cells = []
        found = dict((t["tier"], t) for t in document.get("tiers", []))
        for name in tiers:
            tier = found.get(name)
            single = [c for c in (tier or {}).get("cases", []) if c["concurrency"] == 1]
            if not single:
                cells.append(" %-28s" % "-")
                continue
            case = min(single, key=lambda c: c["prompt_tokens"])
            cells.append(" %-28s" % ("%s %.1f / %.0f @%d" % (tier["engine"], case["summary"]["gen_tps"]["median"] or 0,
                                                             case["summary"]["pp_tps"]["median"] or 0,
                                                             case["prompt_tokens"])))
        lines.append("%-16s" % document.get("box") + "".join(cells))
    return lines


def bench_scaling(fleet_runs, box_runs):
    """The fleet through the gateway against one box: from the looped tier_bench results of both (each item a
    gateway tier {key, value: {parallel, servers}}), per tier the aggregate generation rates and their ratio."""
    alone = dict((r["item"]["key"], r) for r in box_runs or [] if not r.get("skipped") and "summary" in r)
    rows = []
    for run in fleet_runs or []:
        if run.get("skipped") or "summary" not in run:
            continue
        tier, pool = run["item"]["key"], run["item"]["value"]
        fleet = run["summary"]["agg_gen_tps"]["median"] or 0.0
        one = (alone.get(tier) or {}).get("summary", {}).get("agg_gen_tps", {}).get("median") or 0.0
        rows.append({"tier": tier, "boxes": len(pool["servers"]), "concurrency": pool["parallel"],
                     "box": pool["servers"][0]["name"], "box_concurrency": pool["servers"][0]["parallel"],
                     "fleet_agg_gen_tps": fleet, "box_agg_gen_tps": one,
                     "scaling": round(fleet / one, 2) if one else None})
    return rows


def bench_scaling_table(rows):
    """bench_scaling's rows as lines of text."""
    lines = ["%-10s %5s %9s %18s %22s %8s" % ("tier", "boxes", "at once", "fleet gen tok/s", "one box gen tok/s",
                                              "scaling")]
    for row in rows:
        lines.append("%-10s %5d %9d %18.1f %22s %8s" % (
            row["tier"], row["boxes"], row["concurrency"], row["fleet_agg_gen_tps"],
            "%.1f (%s x%d)" % (row["box_agg_gen_tps"], row["box"], row["box_concurrency"]),
            "%.2f" % row["scaling"] if row["scaling"] is not None else "-"))
    return lines


class FilterModule(object):
    def filters(self):
        return {"bench_list": bench_list, "bench_cases": bench_cases, "bench_document": bench_document, "bench_compare": bench_compare,
                "bench_table": bench_table, "bench_engines_table": bench_engines_table,
                "bench_fleet_table": bench_fleet_table, "bench_scaling": bench_scaling,
                "bench_scaling_table": bench_scaling_table}
