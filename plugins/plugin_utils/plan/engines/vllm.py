# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vLLM: a whole model repository behind an OpenAI API. On the GPU it takes a share of the GPU memory; on the CPU
(for trying the stack and for tests, not for speed) the plan gives it its KV cache in bytes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import MIB, gib, is_int, number

NAME = "vllm"
KEYS = ("gpu_util", "kv_cache_dtype", "tool_call_parser", "attention_backend")
# The most of the GPU memory the vLLM tiers may take together: upstream's launcher caps a share at 0.90
# ("0.95 often leads to OOM at startup on Strix Halo APUs", kyuz0/amd-strix-halo-vllm-toolboxes start_vllm.py).
MAX_TOTAL_SHARE = 0.90
# The KV cache vLLM on the CPU needs beyond context x sequences: it keeps one block aside (the null block, 128
# tokens on the CPU); two blocks' worth leaves room for a larger block size.
SPARE_TOKENS = 256


BACKENDS = ()


def default_backend(device):
    return None


def served_name(model):
    """The name the tier answers to when strix_tiers gives none: the repository's, else the directory's."""
    return model.get("repo_id") or posixpath.basename(model["path"])


def check_stack(d, problems):
    if not isinstance(d.get("vllm_env", {}), dict):
        problems.add("strix_vllm_env must be a dictionary of environment variables, got %r", d.get("vllm_env"))
    if not is_int(d.get("vllm_activation_reserve_mb", 0), 0):
        problems.add("strix_vllm_activation_reserve_mb must be a whole number of MiB (0 or more), got %r",
                     d.get("vllm_activation_reserve_mb"))


def check(where, s, d, problems):
    if not s.get("tool_call_parser"):
        problems.add("%s.tool_call_parser must name vLLM's tool-call parser for the model", where)
    if s["device"] != "gpu":
        return
    if s.get("kv_cache_dtype", "auto") != "auto" and not d.get("allow_kv_cache_dtype"):
        problems.add("%s.kv_cache_dtype must be auto on gfx1151 (FP8 KV cache fails there), got %r; set "
                     "strix_allow_kv_cache_dtype to override", where, s.get("kv_cache_dtype"))
    if gpu_share(s) is None:
        problems.add("%s.gpu_util must be a share of the GPU memory in (0, 1], got %r", where, s.get("gpu_util"))
    if not isinstance(s.get("attention_backend", ""), str):
        problems.add("%s.attention_backend must name a vLLM attention backend (or be empty: vLLM chooses), got %r",
                     where, s.get("attention_backend"))


def gpu_share(s):
    """The tier's share of the GPU memory, or None (on the CPU, or not a share)."""
    util = number(s.get("gpu_util"))
    return util if s.get("device") == "gpu" and util is not None and 0 < util <= 1 else None


def model_problem(where, model):
    if model["kind"] != "repo":
        return "%s: vLLM serves a whole repository (a snapshot directory), not the file %r" % (
            where, model.get("filename") or model["path"])
    return None


def context_override(s):
    return None


def image_key(s):
    return "vllm" if s["device"] == "gpu" else "vllm_cpu"


def kv_spare_tokens(s):
    return SPARE_TOKENS if s["device"] == "cpu" else 0


def container(s, d, part):
    """part: mount, served, bind, loopback, model, info, kv_mb."""
    gpu = s["device"] == "gpu"
    command = ["serve", part["mount"], "--served-model-name", part["served"], "--host", part["bind"], "--port",
               str(s["port"]), "--dtype", "auto"]
    if gpu:
        command += ["--gpu-memory-utilization", str(s["gpu_util"])]
    elif part["kv_mb"]:
        command += ["--kv-cache-memory-bytes", str(part["kv_mb"] * MIB)]
    command += ["--max-model-len", str(s["context"]), "--kv-cache-dtype", s.get("kv_cache_dtype", "auto"),
                "--max-num-seqs", str(s["parallel"]), "--enable-prefix-caching",
                "--enable-auto-tool-choice", "--tool-call-parser", s["tool_call_parser"]]
    if gpu and s.get("attention_backend", "TRITON_ATTN"):
        command += ["--attention-backend", s.get("attention_backend", "TRITON_ATTN")]
    rope = part["info"]["rope"]
    if rope:
        # vLLM 0.33 derives the longest context from max_position_embeddings alone; a YaRN entry does not raise it,
        # so the override raises both.
        command += ["--hf-overrides", json.dumps({
            "rope_scaling": {"rope_type": "yarn", "factor": rope["factor"],
                             "original_max_position_embeddings": rope["original"]},
            "max_position_embeddings": s["context"]}, sort_keys=True, separators=(",", ":"))]
    caches = [(d.get("hf_home"), "/root/.cache/huggingface"), (d.get("vllm_cache_dir"), "/root/.cache/vllm")]
    caches += [(d.get("triton_cache_dir"), "/opt/triton_cache")] if gpu else []
    # On the GPU: the image's /etc/profile.d (skipped by an entrypoint that is not a login shell) and its launcher's
    # defaults, then the stack's strix_vllm_env; the tier's env goes on top.
    env = dict((str(k), str(v)) for k, v in (d.get("vllm_env") or {}).items()) if gpu else {}
    env.update({"HF_HOME": "/root/.cache/huggingface", "VLLM_CACHE_ROOT": "/root/.cache/vllm", "HF_HUB_OFFLINE": "1"})
    env.update({"TRITON_CACHE_DIR": "/opt/triton_cache"} if gpu else {})
    if not d.get("phone_home"):
        # nothing leaves the box unless asked (strix_phone_home): vLLM's usage statistics, the Hub client's telemetry
        env.update({"VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
    return {
        "entrypoint": ["vllm"], "command": command, "env": env,
        "volumes": ["%s:%s" % cache for cache in caches] + ["%s:%s:ro" % (part["model"]["path"], part["mount"])],
        "cache_dirs": [path for path, _mount in caches],
        "devices": list((d.get("gpu_devices") or {}).get("vllm", [])) if gpu else [],
        "healthcheck": ["CMD", "python3", "-c",
                        "import http.client, sys; c = http.client.HTTPConnection('%s', %d, timeout=5); "
                        "c.request('GET', '/health'); sys.exit(c.getresponse().status != 200)"
                        % (part["loopback"], s["port"])],
    }


def ledger_row(s, part):
    """part: weights, kv, parts (the weights and KV in words), activations, gpu_mb, ram_mb."""
    weights, kv, activations = part["weights"], part["kv"], part["activations"]
    if s["device"] == "cpu":
        return {"mb": (weights or 0) + (kv or 0) + activations,
                "what": "%s + %s activations, KV given to vLLM in bytes" % (part["parts"], gib(activations))}
    gpu_mb = part["gpu_mb"]
    base = gpu_mb or part["ram_mb"]
    need = (weights or 0) + (kv or 0) + activations
    mb = int(float(s["gpu_util"]) * base)
    return {
        "share": s["gpu_util"], "mb": mb, "need_mb": need,
        "need": "its weights (%s), KV cache (%s for %d tokens x %d) and activations (%s) need" % (
            gib(weights or 0), gib(kv or 0), s["context"], s["parallel"], gib(activations)),
        "min_share": -(-need * 100 // base) / 100.0 if base else 0,
        "what": "%s of %s: %s + %s activations%s" % (
            s["gpu_util"], "GPU memory" if gpu_mb else "RAM (no GPU memory reported)", part["parts"], gib(activations),
            "" if gpu_mb else ", share not checked"),
        "short_mb": bool(gpu_mb and weights is not None and kv is not None and mb < need),
    }


def check_together(tiers, d, problems, ledger):
    """The vLLM tiers' shares of one GPU's memory: together at most MAX_TOTAL_SHARE, and each enough for what it
    must hold. tiers: (tier, settings) of every vLLM tier, those with other problems too."""
    shares = [(tier, gpu_share(s)) for tier, s in tiers if gpu_share(s) is not None]
    total = sum(share for _tier, share in shares)
    if total > MAX_TOTAL_SHARE + 1e-9:
        problems.add("%s = %.2f, more than %.2f: the vLLM tiers share one GPU's memory, and vLLM fails at start-up "
                     "above that on Strix Halo", " + ".join("strix_tiers.%s.gpu_util" % tier for tier, _share in shares),
                     total, MAX_TOTAL_SHARE)
    if not d.get("memory_budget_enforce", True):
        return
    for row in ledger["rows"]:
        if row.get("short_mb"):
            problems.add("strix_tiers.%s.gpu_util %s of the %.1f GiB of GPU memory the box reports is %.1f GiB, less "
                         "than the %.1f GiB %s; give it at least %.2f (the vLLM tiers' shares add up to at most %.2f), "
                         "or lower its context or parallel sequences. Ledger: %s", row["tier"], row["share"],
                         int(ledger["gpu_mb"]) / 1024.0, row["mb"] / 1024.0, row["need_mb"] / 1024.0, row["need"],
                         row["min_share"], MAX_TOTAL_SHARE, " | ".join(ledger["table"]))
