# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One plan of the stack: the inventory's description of the tiers plus the facts of a box, in, and
everything the roles and the reports need, out.

strix_models(description)         the model downloads the description needs (for the models check)
strix_plan(description, facts)    the plan: tiers in start order with their exact containers, the
                                  downloads, the memory ledger, the OpenCode layout, and every problem
meminfo_mb(text)                  RAM and swap from /proc/meminfo
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import posixpath
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import catalog_facts
from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import (
    TIERS, check as check_opencode, served_tiers, switchable_layout)

ENGINES = ("vllm", "llamacpp")
DEVICES = ("gpu", "cpu")
BACKENDS = ("vulkan", "rocm")
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
               "served_name", "extra_args", "env", "health_timeout", "rope_scaling", "kv_bytes_per_token")
ENGINE_KEYS = {"vllm": ("gpu_util", "kv_cache_dtype", "tool_call_parser", "attention_backend"),
               "llamacpp": ("threads",)}
ROPE_SCALING = ("yarn",)
# The most of the GPU memory the vLLM tiers may take together: upstream's launcher caps a share at 0.90
# ("0.95 often leads to OOM at startup on Strix Halo APUs", kyuz0/amd-strix-halo-vllm-toolboxes start_vllm.py).
MAX_TOTAL_SHARE = 0.90
MODEL_KEYS = ("repo_id", "revision", "filename", "sha256", "allow_patterns", "ignore_patterns", "path")
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
ADDRESS = re.compile(r"^[0-9a-fA-F.:]+$")
# What the plan is told of strix_api_key (never the key): none, generate (made on the box), given (from the
# inventory), invalid (given but unusable).
API_KEY_STATES = ("none", "generate", "given", "invalid")
MIB = 1024 * 1024
# The KV cache vLLM on the CPU needs beyond context x sequences: it keeps one block aside (the null block, 128
# tokens on the CPU); two blocks' worth leaves room for a larger block size.
VLLM_SPARE_TOKENS = 256
# Image tags upstream no longer maintains, and what replaced them (kyuz0/amd-strix-halo-toolboxes): rocm-7.2 was
# renamed rocm-7.2.1 .. 7.2.4 and on 2026-08-01 rocm-7.14 (7b5865e), so the old channel tags are frozen at a
# llama.cpp from April 2026 without --load-mode; rocm7-nightlies became therock-nightly (6253346); the rocwmma
# images were removed on 2026-01-10 (7839985).
STALE_TAGS = {
    "amd-strix-halo-toolboxes": dict(
        [("rocm-7.2", "rocm-7.14"), ("rocm-7.2.1", "rocm-7.14"), ("rocm-7.2.2", "rocm-7.14"),
         ("rocm-7.2.3", "rocm-7.14"), ("rocm-7.2.4", "rocm-7.14"), ("rocm7-nightlies", "therock-nightly"),
         ("rocm-6.4.4-rocwmma", "rocm-6.4.4"), ("rocm-7rc-rocwmma", "rocm-7.14")]),
}


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


def _merge(base, over):
    """base with over laid on top, dictionaries merged key by key (lists and scalars replaced)."""
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "model":
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_int(value, low=None):
    return isinstance(value, int) and not isinstance(value, bool) and (low is None or value >= low)


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Planner:
    def __init__(self, description):
        self.d = description
        self.problems = []

    def problem(self, text, *args):
        self.problems.append(text % args if args else text)

    # ---- which tiers run, and their settings ----------------------------------------------------------
    def enabled(self):
        mode, enable = self.d.get("mode"), self.d.get("tier_enable") or {}
        if mode not in PRESETS:
            self.problem("strix_mode must be one of %s, got %r", ", ".join(PRESETS), mode)
            return {}
        if not isinstance(enable, dict):
            self.problem("strix_tier_enable must map tiers to true or false, got %r", enable)
            enable = {}
        for tier in sorted(set(enable) - set(TIERS)):
            self.problem("strix_tier_enable names an unknown tier %r (tiers: %s)", tier, ", ".join(TIERS))
        placed = dict(PRESETS[mode])
        for tier in TIERS:
            if enable.get(tier) is False:
                placed.pop(tier, None)
            elif enable.get(tier) and tier not in placed:
                placed[tier] = TIER_HOME[tier]
        return placed

    def settings(self, tier, placement):
        """The tier's settings: built-in defaults, then the inventory's strix_tiers, engine sections flattened."""
        defaults = (self.d.get("tier_defaults") or {}).get(tier) or {}
        user = (self.d.get("tiers") or {}).get(tier) or {}
        engine, device, backend = placement
        engine = user.get("engine", engine)
        merged = {"engine": engine, "device": user.get("device", device),
                  "backend": user.get("backend", backend or ("vulkan" if engine == "llamacpp" else None))}
        for layer, where in ((defaults, "strix_tier_defaults"), (user, "strix_tiers")):
            for key in sorted(set(layer) - set(COMMON_KEYS) - set(ENGINES)):
                self.problem("%s.%s: unknown setting %r (settings: %s; engine sections: %s)", where, tier, key,
                             ", ".join(COMMON_KEYS), ", ".join(ENGINES))
            common = dict((k, v) for k, v in layer.items()
                          if k in COMMON_KEYS and k not in ("engine", "device", "backend"))
            merged = _merge(merged, common)
            section = layer.get(engine) or {}
            if not isinstance(section, dict):
                self.problem("%s.%s.%s must be a dictionary of settings", where, tier, engine)
                section = {}
            for key in sorted(set(section) - set(COMMON_KEYS) - set(ENGINE_KEYS.get(engine, ()))):
                self.problem("%s.%s.%s: unknown setting %r", where, tier, engine, key)
            merged = _merge(merged, section)
        return merged

    # ---- checks of one tier -----------------------------------------------------------------------------
    def check_tier(self, tier, s):
        where = "strix_tiers.%s" % tier
        if s["engine"] not in ENGINES:
            self.problem("%s.engine must be one of %s, got %r", where, ", ".join(ENGINES), s["engine"])
            return False
        if s["device"] not in DEVICES:
            self.problem("%s.device must be one of %s, got %r", where, ", ".join(DEVICES), s["device"])
            return False
        if s["engine"] == "llamacpp" and s["device"] == "gpu" and s.get("backend") not in BACKENDS:
            self.problem("%s.backend must be one of %s for llama.cpp on the GPU, got %r", where, ", ".join(BACKENDS),
                         s.get("backend"))
        if not _is_int(s.get("port")) or not 0 < s["port"] < 65536:
            self.problem("%s.port must be a port number (1-65535), got %r", where, s.get("port"))
        for key in ("context", "output", "parallel", "health_timeout"):
            if not _is_int(s.get(key), 1):
                self.problem("%s.%s must be a whole number above 0, got %r", where, key, s.get(key))
        if _is_int(s.get("context")) and _is_int(s.get("output")) and s["output"] >= s["context"]:
            self.problem("%s.output (%d) must be less than its context (%d), or no prompt fits", where, s["output"],
                         s["context"])
        if not isinstance(s.get("extra_args", []), list) or not all(isinstance(a, str) for a in s.get("extra_args", [])):
            self.problem("%s.extra_args must be a list of strings, got %r", where, s.get("extra_args"))
        if not isinstance(s.get("env", {}), dict):
            self.problem("%s.env must be a dictionary, got %r", where, s.get("env"))
        if s.get("rope_scaling") not in (None, "") + ROPE_SCALING:
            self.problem("%s.rope_scaling must be one of %s (or unset), got %r", where, ", ".join(ROPE_SCALING),
                         s.get("rope_scaling"))
        if s.get("kv_bytes_per_token") is not None and not _is_int(s.get("kv_bytes_per_token"), 1):
            self.problem("%s.kv_bytes_per_token must be a whole number above 0 (or unset: the model's metadata "
                         "gives it), got %r", where, s.get("kv_bytes_per_token"))
        if s["engine"] == "llamacpp":
            if not _is_int(s.get("threads"), 1):
                self.problem("%s.threads must be a whole number above 0, got %r", where, s.get("threads"))
            return True
        if not s.get("tool_call_parser"):
            self.problem("%s.tool_call_parser must name vLLM's tool-call parser for the model", where)
        if s["device"] == "gpu":
            if s.get("kv_cache_dtype", "auto") != "auto" and not self.d.get("allow_kv_cache_dtype"):
                self.problem("%s.kv_cache_dtype must be auto on gfx1151 (FP8 KV cache fails there), got %r; set "
                             "strix_allow_kv_cache_dtype to override", where, s.get("kv_cache_dtype"))
            util = _number(s.get("gpu_util"))
            if util is None or not 0 < util <= 1:
                self.problem("%s.gpu_util must be a share of the GPU memory in (0, 1], got %r", where, s.get("gpu_util"))
            if not isinstance(s.get("attention_backend", ""), str):
                self.problem("%s.attention_backend must name a vLLM attention backend (or be empty: vLLM "
                             "chooses), got %r", where, s.get("attention_backend"))
        return True

    def model(self, tier, s):
        """The tier's model: where it comes from and where it lives on the box."""
        where = "strix_tiers.%s.model" % tier
        spec = s.get("model")
        if not isinstance(spec, dict) or not (spec.get("repo_id") or spec.get("path")):
            self.problem("%s needs a repo_id (a Hugging Face repository) or a path on the box, got %r", where, spec)
            return None
        for key in sorted(set(spec) - set(MODEL_KEYS)):
            self.problem("%s: unknown key %r (keys: %s)", where, key, ", ".join(MODEL_KEYS))
        models_dir = self.d.get("models_dir") or ""
        if spec.get("path"):
            path = spec["path"]
            if not posixpath.isabs(path):
                self.problem("%s.path must be an absolute path, got %r", where, path)
            kind = "file" if path.endswith(".gguf") else "repo"
            model = {"source": "local", "kind": kind, "path": path, "repo_id": spec.get("repo_id", ""),
                     "revision": spec.get("revision", ""), "sha256": spec.get("sha256", "")}
        else:
            repo_id = spec["repo_id"]
            if not isinstance(repo_id, str) or repo_id.count("/") != 1 or repo_id.startswith("/") or ".." in repo_id:
                self.problem("%s.repo_id must be owner/name, got %r", where, repo_id)
                return None
            filename = spec.get("filename")
            model = {"source": "hub", "repo_id": repo_id, "revision": spec.get("revision") or "main",
                     "sha256": (spec.get("sha256") or "").lower(), "endpoint": self.d.get("hf_endpoint", ""),
                     "mirror": self.d.get("models_mirror") or ""}
            if filename:
                model.update(kind="file", filename=filename,
                             path=posixpath.join(models_dir, posixpath.basename(filename)))
            else:
                model.update(kind="repo", allow_patterns=list(spec.get("allow_patterns") or []),
                             ignore_patterns=list(spec.get("ignore_patterns") or []),
                             path=posixpath.join(models_dir, repo_id))
        if s["engine"] == "vllm" and model["kind"] != "repo":
            self.problem("%s: vLLM serves a whole repository (a snapshot directory), not the file %r", where,
                         model.get("filename") or model["path"])
        if s["engine"] == "llamacpp" and model["kind"] != "file":
            self.problem("%s: llama.cpp serves one GGUF file (give filename, or a path ending in .gguf), got the "
                         "repository %r", where, model.get("repo_id") or model["path"])
        if model["sha256"] and not re.match(r"^[0-9a-f]{64}$", model["sha256"]):
            self.problem("%s.sha256 must be 64 hexadecimal digits, got %r", where, model["sha256"])
        return model

    # ---- what the model says of itself -------------------------------------------------------------------
    def model_info(self, tier, s, model, box_facts):
        """The tier's model figures: the model's own (read on the box), else the catalog's, else None; with the
        context the tier gets, any rope scaling it needs, and its KV cache bytes per token."""
        where = "strix_tiers.%s" % tier
        unreadable = (box_facts or {}).get("error")
        box_facts = None if unreadable else box_facts
        info = dict(box_facts, source="box") if box_facts else catalog_facts(
            dict(model, filename=model.get("filename") or (posixpath.basename(model["path"])
                                                           if model["kind"] == "file" else "")))
        info = info or {"source": None}
        name = model.get("repo_id") or model["path"]
        trained = info.get("context_length") if _is_int(info.get("context_length"), 1) else None
        said = "its config.json's max_position_embeddings" if info.get("format") == "hf" else \
            "its GGUF metadata's context_length"
        override = _context_override(s.get("extra_args") or []) if s["engine"] == "llamacpp" else None
        if override:
            trained, said = override, "--override-kv in %s.extra_args" % where
        rope = None
        if trained and s["context"] > trained:
            if s.get("rope_scaling") != "yarn":
                self.problem("%s.context %d is above the %d tokens %s was trained for (%s); lower it to %d, or set "
                             "%s.rope_scaling: yarn to stretch the model with YaRN", where, s["context"], trained, name,
                             said, trained, where)
            else:
                rope = {"type": "yarn", "factor": round(s["context"] / float(trained), 4), "original": trained}
        hand = s.get("kv_bytes_per_token")
        kv = info.get("kv_bytes_per_token")
        if kv and hand and hand != kv:
            self.problem("%s.kv_bytes_per_token %d differs from the %d bytes per token that %s's own figures give "
                         "(%d layers x %d KV heads x %d+%d x %d bytes); remove the setting", where, hand, kv, name,
                         info.get("layers"), info.get("kv_heads"), info.get("key_length"), info.get("value_length"),
                         kv // max(1, info["layers"] * info["kv_heads"] * (info["key_length"] + info["value_length"])))
        return {"source": info.get("source"), "unreadable": unreadable, "trained_context": trained, "rope": rope,
                "kv_bytes_per_token": kv or hand or None, "kv_source": "model" if kv else ("setting" if hand else None),
                # the files' own size (on the box, or the Hub's) before the catalog's
                "weights_bytes": (info.get("weights_bytes") if info.get("source") == "box" else None) or
                model.get("size") or info.get("weights_bytes"),
                "architecture": info.get("architecture")}

    # ---- the containers ---------------------------------------------------------------------------------
    def container(self, tier, s, model, info):
        d = self.d
        bind = d.get("bind_address", "127.0.0.1")
        name = "%s-%s" % (d.get("stack_name"), tier)
        served = s.get("served_name") or (model.get("repo_id") if s["engine"] == "vllm" and model.get("repo_id")
                                          else posixpath.basename(model["path"]).rsplit(".gguf", 1)[0])
        gpu_devices = d.get("gpu_devices") or {}
        # which strix_images entry the tier runs (what upgrade.yml's rollback sets back)
        image_key = ("vllm" if s["device"] == "gpu" else "vllm_cpu") if s["engine"] == "vllm" else \
            "llamacpp_rocm" if s["device"] == "gpu" and s.get("backend") == "rocm" else "llamacpp"
        image = (d.get("images") or {}).get(image_key)
        mount = "/models/%s" % tier
        if s["engine"] == "vllm":
            # On the GPU vLLM takes a share of the GPU memory; on the CPU (for trying the stack and for tests, not
            # for speed) the plan gives it its KV cache in bytes, the figure the ledger counts in RAM.
            gpu = s["device"] == "gpu"
            command = ["serve", mount, "--served-model-name", served, "--host", bind, "--port", str(s["port"]),
                       "--dtype", "auto"]
            if gpu:
                command += ["--gpu-memory-utilization", str(s["gpu_util"])]
            elif info["kv_bytes_per_token"]:
                command += ["--kv-cache-memory-bytes", str(_kv_mb(s, info) * MIB)]
            command += ["--max-model-len", str(s["context"]), "--kv-cache-dtype", s.get("kv_cache_dtype", "auto"),
                        "--max-num-seqs", str(s["parallel"]), "--enable-prefix-caching",
                        "--enable-auto-tool-choice", "--tool-call-parser", s["tool_call_parser"]]
            if gpu and s.get("attention_backend", "TRITON_ATTN"):
                command += ["--attention-backend", s.get("attention_backend", "TRITON_ATTN")]
            if info["rope"]:
                # vLLM 0.33 derives the longest context from max_position_embeddings alone; a YaRN entry does not
                # raise it, so the override raises both.
                command += ["--hf-overrides", json.dumps({
                    "rope_scaling": {"rope_type": "yarn", "factor": info["rope"]["factor"],
                                     "original_max_position_embeddings": info["rope"]["original"]},
                    "max_position_embeddings": s["context"]}, sort_keys=True, separators=(",", ":"))]
            caches = [(d.get("hf_home"), "/root/.cache/huggingface"), (d.get("vllm_cache_dir"), "/root/.cache/vllm")]
            caches += [(d.get("triton_cache_dir"), "/opt/triton_cache")] if gpu else []
            volumes = ["%s:%s" % cache for cache in caches] + ["%s:%s:ro" % (model["path"], mount)]
            # On the GPU: the image's /etc/profile.d (skipped by an entrypoint that is not a login shell) and its
            # launcher's defaults, then the stack's strix_vllm_env; the tier's env goes on top below.
            env = dict((str(k), str(v)) for k, v in (d.get("vllm_env") or {}).items()) if gpu else {}
            env.update({"HF_HOME": "/root/.cache/huggingface", "VLLM_CACHE_ROOT": "/root/.cache/vllm",
                        "HF_HUB_OFFLINE": "1"})
            env.update({"TRITON_CACHE_DIR": "/opt/triton_cache"} if gpu else {})
            devices = list(gpu_devices.get("vllm", [])) if gpu else []
            entrypoint = ["vllm"]
            healthcheck = ["CMD", "python3", "-c",
                           "import http.client, sys; c = http.client.HTTPConnection('%s', %d, timeout=5); "
                           "c.request('GET', '/health'); sys.exit(c.getresponse().status != 200)"
                           % (_loopback(bind), s["port"])]
        else:
            gpu = s["device"] == "gpu"
            gguf = "%s/%s" % (mount, posixpath.basename(model["path"]))
            command = ["-m", gguf, "-c", str(s["context"] * s["parallel"]), "-np", str(s["parallel"]),
                       "-t", str(s["threads"]), "-ngl", "999" if gpu else "0"]
            # -ngl 0 alone still offloads prompt processing to a visible GPU (--op-offload): none keeps it off.
            command += [] if gpu else ["-dev", "none"]
            command += ["--alias", served, "--host", bind, "--port", str(s["port"])] + list(d.get("load_args") or [])
            command += ["--flash-attn", "on"] if gpu else []
            if info["rope"]:
                command += ["--rope-scaling", "yarn", "--rope-scale", "%g" % info["rope"]["factor"],
                            "--yarn-orig-ctx", str(info["rope"]["original"])]
            caches = []
            volumes = ["%s:%s:ro" % (posixpath.dirname(model["path"]), mount)]
            env = {}
            devices = list(gpu_devices.get(s.get("backend") or "vulkan", [])) if gpu else []
            entrypoint = ["llama-server"]
            # The ROCm images are fedora-minimal without curl or python: bash's /dev/tcp, which every image has.
            healthcheck = ["CMD", "bash", "-c", "exec 3<>/dev/tcp/%s/%d && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 "
                           "&& head -n 1 <&3 | grep -q ' 200 '" % (_loopback(bind), s["port"])]
        if not image:
            self.problem("strix_images.%s is not set: tier %s (%s on the %s) runs it", image_key, tier, s["engine"],
                         s["device"].upper())
        env.update(dict((str(k), str(v)) for k, v in (s.get("env") or {}).items()))
        # The key reaches the server as LLAMA_API_KEY / VLLM_API_KEY from a root-only file on the box: never on the
        # command line, never in the plan.
        keys = api_key_files(d)
        return {
            "env_file": keys["env"] if keys else None,
            "image_key": image_key,
            "name": name, "image": image, "entrypoint": entrypoint, "command": command + list(s.get("extra_args", [])),
            "volumes": volumes, "cache_dirs": [path for path, _mount in caches], "env": env, "devices": devices,
            "groups": list(d.get("gpu_groups") or []) if devices or s["device"] == "gpu" else [],
            "served_name": served, "healthcheck": healthcheck,
            "url": "http://%s:%d" % (_loopback(bind), s["port"]),
            "labels": {
                "org.strix-opencode.collection": "strix.opencode",
                "org.strix-opencode.stack": str(d.get("stack_name")),
                "org.strix-opencode.tier": tier,
                "org.strix-opencode.engine": s["engine"],
                "org.strix-opencode.device": s["device"],
                "org.strix-opencode.port": str(s["port"]),
                "org.strix-opencode.model": served,
                "org.strix-opencode.model-revision": model.get("revision") or "",
                "org.strix-opencode.model-sha256": model.get("sha256") or "",
            },
        }

    # ---- the stack-wide settings ----------------------------------------------------------------------
    def check_stack(self):
        d = self.d
        if not NAME.match(str(d.get("stack_name", ""))):
            self.problem("strix_stack_name must be letters, digits, '_', '.' or '-', got %r", d.get("stack_name"))
        network = str(d.get("network_mode", ""))
        if network != "host" and not network.startswith("container:"):
            self.problem("strix_network_mode must be host or container:<name>, got %r", network)
        if not ADDRESS.match(str(d.get("bind_address", ""))):
            self.problem("strix_bind_address must be an IP address, got %r", d.get("bind_address"))
        key = d.get("api_key") or "none"
        if key not in API_KEY_STATES:
            self.problem("strix_api_key: the description must say none, generate, given or invalid (the filter never "
                         "sees the key itself), got %r", key[:12])
        elif key == "invalid":
            self.problem("strix_api_key must be at least 16 printable characters without spaces or quotes (or "
                         "generate, for a key made on the box); the value given is not shown")
        elif key == "none" and not _is_loopback(d.get("bind_address", "127.0.0.1")):
            self.problem("strix_bind_address %s leaves loopback: every tier would answer anyone on the network. Set "
                         "strix_api_key: generate (a key made on the box, kept in %s) or a key from a vault",
                         d.get("bind_address"), d.get("api_key_file"))
        if key in ("generate", "given") and not posixpath.isabs(str(d.get("api_key_file", ""))):
            self.problem("strix_api_key_file must be an absolute path, got %r", d.get("api_key_file"))
        for key, image in sorted((d.get("images") or {}).items()):
            name, _sep, tag = str(image).partition("@")[0].rpartition(":")
            if "/" in tag or not name:
                continue
            replacement = STALE_TAGS.get(name.rsplit("/", 1)[-1], {}).get(tag)
            if replacement:
                self.problem("strix_images.%s: the tag %s of %s is no longer maintained upstream (frozen, or removed); "
                             "use %s:%s", key, tag, name, name, replacement)
        mirror = d.get("models_mirror") or ""
        if mirror and not re.match(r"^https?://[^/\s]+(/\S*)?$", str(mirror)):
            self.problem("strix_models_mirror must be an http:// or https:// URL (the mirror role's server), got %r",
                         mirror)
        if not isinstance(d.get("vllm_env", {}), dict):
            self.problem("strix_vllm_env must be a dictionary of environment variables, got %r", d.get("vllm_env"))
        if not _is_int(d.get("vllm_activation_reserve_mb", 0), 0):
            self.problem("strix_vllm_activation_reserve_mb must be a whole number of MiB (0 or more), got %r",
                         d.get("vllm_activation_reserve_mb"))
        for key, var in (("models_dir", "strix_models_dir"), ("hf_home", "strix_hf_home"),
                         ("vllm_cache_dir", "strix_vllm_cache_dir"), ("triton_cache_dir", "strix_triton_cache_dir")):
            if not posixpath.isabs(str(d.get(key, ""))):
                self.problem("%s must be an absolute path, got %r", var, d.get(key))


def _context_override(args):
    """The trained context a llama.cpp command line overrides (--override-kv <arch>.context_length=int:N)."""
    for flag, value in zip(args, args[1:]):
        match = re.match(r"^[a-z0-9_]+\.context_length=int:(\d+)$", value) if flag == "--override-kv" else None
        if match:
            return int(match.group(1))
    return None


def _loopback(bind):
    return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind


def _is_loopback(bind):
    """Whether an address is reachable from the box alone (127.0.0.0/8, ::1)."""
    return str(bind).startswith("127.") or str(bind) in ("::1", "localhost")


def api_key_files(description):
    """The key's files on the box ({key, env}), or None when the tiers take no key."""
    if (description.get("api_key") or "none") not in ("generate", "given"):
        return None
    path = str(description.get("api_key_file"))
    return {"key": path, "env": path + ".env"}


def strix_models(description):
    """The models the description needs, one per distinct path, with the tiers it serves: source hub (to
    download) or local (already on the box).

    Problems are left to strix_plan; a tier whose model is unusable is left out here."""
    planner = _Planner(description)
    downloads = {}
    for tier, placement in _ordered(planner.enabled()):
        settings = planner.settings(tier, placement)
        if settings.get("engine") not in ENGINES:
            continue
        model = planner.model(tier, settings)
        if model:
            entry = downloads.setdefault(model["path"], dict(model, tiers=[]))
            entry["tiers"].append(tier)
    return list(downloads.values())


def _ordered(placed):
    """Tiers in start order: GPU tiers first (vLLM's orchestrator before its coder), then CPU tiers."""
    return sorted(placed.items(), key=lambda item: (item[1][1] != "gpu", TIERS.index(item[0])))


def _kv_mb(s, info):
    """A tier's KV cache in MiB (context x parallel sequences x the model's bytes per token), or None. vLLM on the
    CPU is given its cache in bytes, and keeps one block of it aside (128 tokens): it gets VLLM_SPARE_TOKENS more."""
    per_token = info.get("kv_bytes_per_token")
    spare = VLLM_SPARE_TOKENS if s["engine"] == "vllm" and s["device"] == "cpu" else 0
    return -(-(s["context"] * s["parallel"] + spare) * int(per_token) // MIB) if per_token else None


def _gib(mb):
    return "%.1f GiB" % (mb / 1024.0)


def _ledger(planner, tiers, facts):
    """Memory rows per tier from the models' own figures, totals against RAM + swap and, for the GPU tiers,
    against the GPU memory the box reports; each vLLM tier's share checked against what it must hold."""
    ram, swap = int(facts.get("ram_mb") or 0), int(facts.get("swap_mb") or 0)
    gpu_mb = int(facts.get("gpu_mb") or 0) or None
    reserve = int(planner.d.get("os_reserve_mb") or 0)
    activations = int(planner.d.get("vllm_activation_reserve_mb") or 0)
    rows = []
    for tier in tiers:
        s, info = tier["settings"], tier["facts"]
        weights = int(info["weights_bytes"]) // MIB if info.get("weights_bytes") else None
        kv = _kv_mb(s, info)
        parts = "%s weights + %s KV (%d tokens x %d)" % (_gib(weights) if weights is not None else "unknown",
                                                         _gib(kv) if kv is not None else "unknown", s["context"],
                                                         s["parallel"])
        row = {"tier": tier["tier"], "engine": s["engine"], "device": s["device"], "weights_mb": weights,
               "kv_mb": kv}
        if s["engine"] == "vllm" and s["device"] == "cpu":
            row.update(mb=(weights or 0) + (kv or 0) + activations,
                       what="%s + %s activations, KV given to vLLM in bytes" % (parts, _gib(activations)))
        elif s["engine"] == "vllm":
            base = gpu_mb or ram
            need = (weights or 0) + (kv or 0) + activations
            row.update(share=s["gpu_util"], mb=int(float(s["gpu_util"]) * base), need_mb=need,
                       need="its weights (%s), KV cache (%s for %d tokens x %d) and activations (%s) need" % (
                           _gib(weights or 0), _gib(kv or 0), s["context"], s["parallel"], _gib(activations)),
                       min_share=-(-need * 100 // base) / 100.0 if base else 0)
            row["what"] = "%s of %s: %s + %s activations%s" % (
                s["gpu_util"], "GPU memory" if gpu_mb else "RAM (no GPU memory reported)", parts, _gib(activations),
                "" if gpu_mb else ", share not checked")
            row["short_mb"] = bool(gpu_mb and weights is not None and kv is not None and row["mb"] < need)
        else:
            row.update(mb=(weights or 0) + (kv or 0), what=parts)
        rows.append(row)
    if reserve:
        rows.append({"tier": "host", "engine": "-", "device": "cpu", "mb": reserve, "what": "reserve for the OS "
                     "(strix_os_reserve_mb)"})
    total = sum(row["mb"] for row in rows)
    gpu_total = sum(row["mb"] for row in rows if row["device"] == "gpu")
    verdict = "fits" if total <= ram else ("swap" if total <= ram + swap else "over")
    lines = ["%-9s %-9s %-4s %10s  %s" % ("tier", "engine", "on", "memory", "what")]
    for row in rows:
        lines.append("%-9s %-9s %-4s %6.1f GiB  %s"
                     % (row["tier"], row["engine"], row["device"], row["mb"] / 1024.0, row["what"]))
    lines.append("%-9s %-9s %-4s %6.1f GiB  against RAM %.1f GiB + swap %.1f GiB: %s" % (
        "total", "", "", total / 1024.0, ram / 1024.0, swap / 1024.0,
        {"fits": "fits in RAM", "swap": "fits only with swap", "over": "more than RAM and swap"}[verdict]))
    if gpu_mb:
        lines.append("%-9s %-9s %-4s %6.1f GiB  against GPU memory %.1f GiB"
                     % ("gpu", "", "", gpu_total / 1024.0, gpu_mb / 1024.0))
    return {"rows": rows, "total_mb": total, "gpu_total_mb": gpu_total, "ram_mb": ram, "swap_mb": swap,
            "gpu_mb": gpu_mb, "verdict": verdict, "table": lines}


def strix_plan(description, facts=None):
    """The plan of the stack on one box. See plugins/filter/strix_plan.yml for the fields."""
    if not isinstance(description, dict):
        raise AnsibleFilterError("strix_plan needs the stack description as a dictionary")
    facts = facts or {}
    planner = _Planner(description)
    planner.check_stack()
    checks = dict((c["path"], c) for c in facts.get("models") or [])
    tiers = []
    utils = []  # (tier, gpu_util) of every vLLM tier with a valid share, a tier with other problems too
    for tier, placement in _ordered(planner.enabled()):
        settings = planner.settings(tier, placement)
        before = len(planner.problems)
        info = None
        model = planner.model(tier, settings) if planner.check_tier(tier, settings) else None
        if model is not None:
            found = checks.get(model["path"], {})
            model["size"] = found.get("size")
            model["would_download"] = int(found.get("would_download") or 0)
            model["reason"] = found.get("reason", "")
            if model["source"] == "local" and found and not found.get("exists"):
                planner.problem("strix_tiers.%s.model.path: %s is not on the box", tier, model["path"])
            if not planner.problems[before:]:
                info = planner.model_info(tier, settings, model, (facts.get("model_facts") or {}).get(model["path"]))
        util = _number(settings.get("gpu_util"))
        if settings.get("engine") == "vllm" and settings.get("device") == "gpu" and util is not None and 0 < util <= 1:
            utils.append((tier, util))
        if model is None or len(planner.problems) > before:
            # A tier with a problem gets no command line or ledger row; all its problems are reported.
            continue
        try:
            box = planner.container(tier, settings, model, info)
        except (KeyError, TypeError, ValueError) as exc:
            planner.problem("strix_tiers.%s: cannot build its command line (%s)", tier, exc)
            continue
        tiers.append({"tier": tier, "engine": settings["engine"], "device": settings["device"],
                      "backend": settings.get("backend") if settings["engine"] == "llamacpp" and
                      settings["device"] == "gpu" else None, "title": settings.get("title") or tier,
                      "port": settings["port"], "context": settings["context"], "output": settings["output"],
                      "parallel": settings["parallel"], "health_timeout": settings["health_timeout"],
                      "served_name": box.pop("served_name"), "url": box.pop("url"), "model": model,
                      "api_key_file": (api_key_files(description) or {}).get("key"),
                      "facts": info, "container": box, "settings": settings})

    ports = {}
    for tier in tiers:
        ports.setdefault(tier["port"], []).append(tier["tier"])
    for port, names in sorted(ports.items()):
        if len(names) > 1:
            planner.problem("strix_tiers: %s all listen on port %d", " and ".join(names), port)
    if sum(util for _tier, util in utils) > MAX_TOTAL_SHARE + 1e-9:
        planner.problem("%s = %.2f, more than %.2f: the vLLM tiers share one GPU's memory, and vLLM fails at start-up "
                        "above that on Strix Halo", " + ".join("strix_tiers.%s.gpu_util" % tier for tier, _util in utils),
                        sum(util for _tier, util in utils), MAX_TOTAL_SHARE)

    ledger = _ledger(planner, tiers, facts)
    for row in ledger["rows"]:
        if row.get("short_mb") and description.get("memory_budget_enforce", True):
            planner.problem("strix_tiers.%s.gpu_util %s of the %.1f GiB of GPU memory the box reports is %.1f GiB, less "
                            "than the %.1f GiB %s; give it at least %.2f (the vLLM tiers' shares add up to at most "
                            "%.2f), or lower its context or parallel sequences. Ledger: %s", row["tier"], row["share"],
                            int(ledger["gpu_mb"]) / 1024.0, row["mb"] / 1024.0, row["need_mb"] / 1024.0, row["need"],
                            row["min_share"], MAX_TOTAL_SHARE, " | ".join(ledger["table"]))
    if ledger["verdict"] == "over" and description.get("memory_budget_enforce", True):
        planner.problem("the tiers need %.1f GiB, more than RAM and swap (%.1f GiB): %s. Run fewer tiers "
                        "(strix_mode, strix_tier_enable) or smaller contexts, or set strix_memory_budget_enforce to "
                        "false", ledger["total_mb"] / 1024.0, (ledger["ram_mb"] + ledger["swap_mb"]) / 1024.0,
                        " | ".join(ledger["table"]))
    if ledger["gpu_mb"] and ledger["gpu_total_mb"] > int(ledger["gpu_mb"]) and \
            description.get("memory_budget_enforce", True):
        planner.problem("the GPU tiers need %.1f GiB, more than the %.1f GiB of GPU memory the box reports",
                        ledger["gpu_total_mb"] / 1024.0, int(ledger["gpu_mb"]) / 1024.0)

    downloads = []
    for tier in tiers:
        model = tier["model"]
        if model["source"] == "hub" and model["path"] not in [m["path"] for m in downloads]:
            downloads.append(dict((k, v) for k, v in model.items() if k != "size"))
    download_bytes = sum(m["would_download"] for m in downloads)
    free = facts.get("free_bytes")
    margin = int(description.get("free_space_margin_mb") or 0) * MIB
    if download_bytes and free is not None and int(free) < download_bytes + margin:
        planner.problem("the models do not fit in %s: %.1f GiB to download (%s) plus the %d MiB margin "
                        "(strix_models_free_space_margin_mb), but %.1f GiB free. Nothing was downloaded",
                        description.get("models_dir"), download_bytes / 1024.0 ** 3,
                        ", ".join("%s (%s)" % (m["path"], m["reason"]) for m in downloads if m["would_download"]),
                        margin // MIB, int(free) / 1024.0 ** 3)

    served = served_tiers(tiers)
    cloud = description.get("cloud_planner") or {}
    agents = description.get("plugin_agents") or {}
    orch = description.get("orch") or None
    opencode_problems = check_opencode(served, cloud, agents, orch)
    if description.get("switching") and not orch:
        opencode_problems.append("--tags switch_orch needs -e orch=local (or vllm) or -e orch=cloud")
    planner.problems.extend(opencode_problems)
    opencode = {}
    if not opencode_problems:
        opencode = switchable_layout(served, _loopback(description.get("bind_address", "127.0.0.1")), cloud, agents,
                                     orch, api_key=bool(api_key_files(description)))

    for tier in tiers:
        tier.pop("settings")
    return {
        "stack": description.get("stack_name"),
        # Where the tiers' API key is kept on the box ({key, env}), or None: the tiers take none.
        "api_key": api_key_files(description),
        "mode": description.get("mode"),
        "network_mode": description.get("network_mode"),
        "bind_address": description.get("bind_address"),
        "tiers": tiers,
        "containers": dict((t["tier"], t["container"]["name"]) for t in tiers),
        "downloads": downloads,
        "download_bytes": download_bytes,
        "ledger": ledger,
        # Tiers whose model states no trained context yet (not on the box, not in the catalog): the stack role
        # plans again once the models are downloaded, before any tier starts.
        "unchecked": [t["tier"] for t in tiers if not t["facts"]["trained_context"]],
        "opencode": opencode,
        "problems": planner.problems,
    }


def strix_model_facts(stats, file_checks=None, repo_checks=None):
    """What the box and the Hub say of each model: the results of stat (looped over strix_models) and of
    the check-mode hf_download / hf_snapshot runs, as [{path, exists, size, would_download, reason}]."""
    found = {}
    for result in stats or []:
        stat = result.get("stat") or {}
        path = result["item"]["path"]
        found[path] = {"path": path, "exists": bool(stat.get("exists")),
                       "size": stat.get("size") if stat.get("isreg") else None,
                       "would_download": 0, "reason": ""}
    for result in list(file_checks or []) + list(repo_checks or []):
        if result.get("skipped") or "item" not in result:
            continue
        entry = found.setdefault(result["item"]["path"], {"path": result["item"]["path"], "exists": False})
        entry["size"] = result.get("size", entry.get("size"))
        entry["would_download"] = int(result.get("would_download") or 0)
        entry["reason"] = result.get("reason") or ""
    return list(found.values())


def strix_plan_text(plan):
    """The plan as a person reads it: one block per tier, then the memory ledger and OpenCode's agents."""
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
            opencode["primary"], opencode["default_agent"], opencode["small_model"],
            ", ".join(opencode["providers"])))
    for problem in plan.get("problems", []):
        lines.append("PROBLEM: " + problem)
    return lines


class FilterModule(object):
    def filters(self):
        return {"strix_plan": strix_plan, "strix_models": strix_models, "strix_model_facts": strix_model_facts,
                "strix_plan_text": strix_plan_text, "meminfo_mb": meminfo_mb}
