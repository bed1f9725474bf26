# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The description of the stack: its stack-wide settings, which tiers run, and each tier's settings with the
checks every engine shares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import TIERS
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import is_int, is_loopback, merge
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import ENGINES

DEVICES = ("gpu", "cpu")
# The startup modes: which tiers run, on which engine and device. Start order: GPU tiers first, the vLLM
# coder only after the vLLM orchestrator is healthy (vLLM's memory profiling races otherwise), then the
# CPU tiers.
PRESETS = {
    "gpu": {"orch": ("vllm", "gpu", None), "coder": ("vllm", "gpu", None)},
    "cpu": {"reviewer": ("llamacpp", "cpu", None), "utility": ("llamacpp", "cpu", None)},
    "full": {"orch": ("vllm", "gpu", None), "coder": ("vllm", "gpu", None),
             "reviewer": ("llamacpp", "cpu", None), "utility": ("llamacpp", "cpu", None)},
    "hybrid-radv": {"orch": ("llamacpp", "gpu", "vulkan"), "coder": ("vllm", "gpu", None)},
    "hybrid-rocm": {"orch": ("llamacpp", "gpu", "rocm"), "coder": ("vllm", "gpu", None)},
    # Both GPU tiers on llama.cpp: on gfx1151 it decodes one user's request several times faster than vLLM.
    "gpu-llamacpp": {"orch": ("llamacpp", "gpu", "vulkan"), "coder": ("llamacpp", "gpu", "vulkan")},
}
# The engine, device and backend of a tier that strix_tier_enable turns on although the mode does not run it.
TIER_HOME = {"orch": ("vllm", "gpu", None), "coder": ("vllm", "gpu", None),
             "reviewer": ("llamacpp", "cpu", None), "utility": ("llamacpp", "cpu", None)}
COMMON_KEYS = ("engine", "device", "backend", "title", "port", "context", "output", "parallel", "model",
               "served_name", "extra_args", "env", "health_timeout", "rope_scaling", "kv_bytes_per_token",
               "prompt_tps")
ROPE_SCALING = ("yarn",)
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
ADDRESS = re.compile(r"^[0-9a-fA-F.:]+$")
# What the plan is told of strix_api_key (never the key): none, generate (made on the box), given (from the
# inventory), invalid (given but unusable).
API_KEY_STATES = ("none", "generate", "given", "invalid")
# Image tags upstream no longer maintains, and what replaced them. kyuz0/amd-strix-halo-toolboxes: rocm-7.2 was
# renamed rocm-7.2.1 .. 7.2.4, then rocm-7.14 (7b5865e, 2026-08-01), and on 2026-08-28 the stable lane moved to ROCm
# 10.0 (d3cef36, 9ff3c5e): only vulkan-radv and rocm-10.0 are stable, rocm-6.4.4, rocm-7.14 and vulkan-amdvlk
# (AMDVLK removed) left it; rocm7-nightlies became therock-nightly (6253346); the rocwmma images were removed on
# 2026-01-10 (7839985). kyuz0/amd-strix-halo-vllm-toolboxes documents only :latest, :dev and version tags (the
# ROCm 10.0 README): :stable is gone.
TOOLBOX_ROCM = "rocm-10.0"
VLLM_TAG = "rocm10.0.0-torch2.11.0-vllm0.30.0"
STALE_TAGS = {
    "amd-strix-halo-toolboxes": dict(
        [("rocm-7.2", TOOLBOX_ROCM), ("rocm-7.2.1", TOOLBOX_ROCM), ("rocm-7.2.2", TOOLBOX_ROCM),
         ("rocm-7.2.3", TOOLBOX_ROCM), ("rocm-7.2.4", TOOLBOX_ROCM), ("rocm-7.14", TOOLBOX_ROCM),
         ("rocm-6.4.4", TOOLBOX_ROCM), ("rocm7-nightlies", "therock-nightly"), ("vulkan-amdvlk", "vulkan-radv"),
         ("rocm-6.4.4-rocwmma", TOOLBOX_ROCM), ("rocm-7rc-rocwmma", TOOLBOX_ROCM)]),
    "vllm-therock-gfx1151": {"stable": VLLM_TAG},
}


def placed_tiers(d, problems):
    """The tiers that run, in start order, with their (engine, device, backend) placement: GPU tiers first
    (vLLM's orchestrator before its coder), then CPU tiers."""
    mode, enable = d.get("mode"), d.get("tier_enable") or {}
    if mode not in PRESETS:
        problems.add("strix_mode must be one of %s, got %r", ", ".join(PRESETS), mode)
        return []
    if not isinstance(enable, dict):
        problems.add("strix_tier_enable must map tiers to true or false, got %r", enable)
        enable = {}
    for tier in sorted(set(enable) - set(TIERS)):
        problems.add("strix_tier_enable names an unknown tier %r (tiers: %s)", tier, ", ".join(TIERS))
    placed = dict(PRESETS[mode])
    for tier in TIERS:
        if enable.get(tier) is False:
            placed.pop(tier, None)
        elif enable.get(tier) and tier not in placed:
            placed[tier] = TIER_HOME[tier]
    return sorted(placed.items(), key=lambda item: (item[1][1] != "gpu", TIERS.index(item[0])))


def tier_settings(d, tier, placement, problems):
    """The tier's settings: built-in defaults, then the inventory's strix_tiers, engine sections flattened."""
    defaults = (d.get("tier_defaults") or {}).get(tier) or {}
    # the inventory's strix_tiers, with any override of the plan role's (plan_override.tiers) laid on top
    user = merge((d.get("tiers") or {}).get(tier) or {}, (d.get("tier_overrides") or {}).get(tier) or {})
    engine, device, backend = placement
    engine = user.get("engine", engine)
    default_backend = ENGINES[engine].default_backend(device) if engine in ENGINES else None
    merged = {"engine": engine, "device": user.get("device", device),
              "backend": user.get("backend", backend or default_backend)}
    for layer, where in ((defaults, "strix_tier_defaults"), (user, "strix_tiers")):
        for key in sorted(set(layer) - set(COMMON_KEYS) - set(ENGINES)):
            problems.add("%s.%s: unknown setting %r (settings: %s; engine sections: %s)", where, tier, key,
                         ", ".join(COMMON_KEYS), ", ".join(ENGINES))
        common = dict((k, v) for k, v in layer.items()
                      if k in COMMON_KEYS and k not in ("engine", "device", "backend"))
        merged = merge(merged, common)
        section = layer.get(engine) or {}
        if not isinstance(section, dict):
            problems.add("%s.%s.%s must be a dictionary of settings", where, tier, engine)
            section = {}
        keys = ENGINES[engine].KEYS if engine in ENGINES else ()
        for key in sorted(set(section) - set(COMMON_KEYS) - set(keys)):
            problems.add("%s.%s.%s: unknown setting %r", where, tier, engine, key)
        merged = merge(merged, section)
    return merged


def check_tier(d, tier, s, problems):
    """Whether the tier's engine and device are known (nothing else can be checked otherwise); every problem of
    its settings is added."""
    where = "strix_tiers.%s" % tier
    if s["engine"] not in ENGINES:
        problems.add("%s.engine must be one of %s, got %r", where, ", ".join(ENGINES), s["engine"])
        return False
    if s["device"] not in DEVICES:
        problems.add("%s.device must be one of %s, got %r", where, ", ".join(DEVICES), s["device"])
        return False
    if not is_int(s.get("port")) or not 0 < s["port"] < 65536:
        problems.add("%s.port must be a port number (1-65535), got %r", where, s.get("port"))
    for key in ("context", "output", "parallel", "health_timeout"):
        if not is_int(s.get(key), 1):
            problems.add("%s.%s must be a whole number above 0, got %r", where, key, s.get(key))
    if is_int(s.get("context")) and is_int(s.get("output")) and s["output"] >= s["context"]:
        problems.add("%s.output (%d) must be less than its context (%d), or no prompt fits", where, s["output"],
                     s["context"])
    if not isinstance(s.get("extra_args", []), list) or not all(isinstance(a, str) for a in s.get("extra_args", [])):
        problems.add("%s.extra_args must be a list of strings, got %r", where, s.get("extra_args"))
    if not isinstance(s.get("env", {}), dict):
        problems.add("%s.env must be a dictionary, got %r", where, s.get("env"))
    if s.get("rope_scaling") not in (None, "") + ROPE_SCALING:
        problems.add("%s.rope_scaling must be one of %s (or unset), got %r", where, ", ".join(ROPE_SCALING),
                     s.get("rope_scaling"))
    if s.get("prompt_tps") not in (None, "") and not is_int(s.get("prompt_tps"), 1):
        problems.add("%s.prompt_tps must be a whole number above 0, the prompt tokens a second the tier reads (or "
                     "unset: unknown, and OpenCode waits for it without a timeout), got %r", where, s.get("prompt_tps"))
    if s.get("kv_bytes_per_token") is not None and not is_int(s.get("kv_bytes_per_token"), 1):
        problems.add("%s.kv_bytes_per_token must be a whole number above 0 (or unset: the model's metadata "
                     "gives it), got %r", where, s.get("kv_bytes_per_token"))
    ENGINES[s["engine"]].check(where, s, d, problems)
    return True


def check_stack(d, problems):
    """The stack-wide settings."""
    if not NAME.match(str(d.get("stack_name", ""))):
        problems.add("strix_stack_name must be letters, digits, '_', '.' or '-', got %r", d.get("stack_name"))
    network = str(d.get("network_mode", ""))
    if network != "host" and not network.startswith("container:"):
        problems.add("strix_network_mode must be host or container:<name>, got %r", network)
    if not ADDRESS.match(str(d.get("bind_address", ""))):
        problems.add("strix_bind_address must be an IP address, got %r", d.get("bind_address"))
    key = d.get("api_key") or "none"
    if key not in API_KEY_STATES:
        problems.add("strix_api_key: the description must say none, generate, given or invalid (the filter never "
                     "sees the key itself), got %r", key[:12])
    elif key == "invalid":
        problems.add("strix_api_key must be at least 16 printable characters without spaces or quotes (or "
                     "generate, for a key made on the box); the value given is not shown")
    elif key == "none" and not is_loopback(d.get("bind_address", "127.0.0.1")):
        problems.add("strix_bind_address %s leaves loopback: every tier would answer anyone on the network. Set "
                     "strix_api_key: generate (a key made on the box, kept in %s) or a key from a vault",
                     d.get("bind_address"), d.get("api_key_file"))
    if key in ("generate", "given") and not posixpath.isabs(str(d.get("api_key_file", ""))):
        problems.add("strix_api_key_file must be an absolute path, got %r", d.get("api_key_file"))
    for key, image in sorted((d.get("images") or {}).items()):
        name, _sep, tag = str(image).partition("@")[0].rpartition(":")
        if "/" in tag or not name:
            continue
        replacement = STALE_TAGS.get(name.rsplit("/", 1)[-1], {}).get(tag)
        if replacement:
            problems.add("strix_images.%s: the tag %s of %s is no longer maintained upstream (frozen, or removed); "
                         "use %s:%s", key, tag, name, name, replacement)
    mirror = d.get("models_mirror") or ""
    if mirror and not re.match(r"^https?://[^/\s]+(/\S*)?$", str(mirror)):
        problems.add("strix_models_mirror must be an http:// or https:// URL (the mirror role's server), got %r",
                     mirror)
    for key, var in (("models_dir", "strix_models_dir"), ("hf_home", "strix_hf_home"),
                     ("vllm_cache_dir", "strix_vllm_cache_dir"), ("triton_cache_dir", "strix_triton_cache_dir")):
        if not posixpath.isabs(str(d.get(key, ""))):
            problems.add("%s must be an absolute path, got %r", var, d.get(key))
    for engine in ENGINES.values():
        engine.check_stack(d, problems)
