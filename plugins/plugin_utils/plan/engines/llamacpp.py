# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""llama.cpp's llama-server: one GGUF file, on the CPU or on the GPU through Vulkan (RADV) or ROCm."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import is_int

NAME = "llamacpp"
KEYS = ("threads", "cache_ram_mb")
# llama-server keeps a prompt cache of idle slots in host RAM, 8192 MiB by default: the plan sets it, and counts it.
CACHE_RAM_MB = 1024
BACKENDS = ("vulkan", "rocm")


def default_backend(device):
    return "vulkan"


def served_name(model):
    """The name the tier answers to when strix_tiers gives none: the GGUF file's, without .gguf."""
    return posixpath.basename(model["path"]).rsplit(".gguf", 1)[0]


def check_stack(d, problems):
    return None


def check(where, s, d, problems):
    if s["device"] == "gpu" and s.get("backend") not in BACKENDS:
        problems.add("%s.backend must be one of %s for llama.cpp on the GPU, got %r", where, ", ".join(BACKENDS),
                     s.get("backend"))
    if not is_int(s.get("threads"), 1):
        problems.add("%s.threads must be a whole number above 0, got %r", where, s.get("threads"))
    if s.get("cache_ram_mb") is not None and not is_int(s.get("cache_ram_mb"), 0):
        problems.add("%s.cache_ram_mb must be a whole number of MiB, 0 or more (0: no prompt cache), got %r", where,
                     s.get("cache_ram_mb"))


def model_problem(where, model):
    if model["kind"] != "file":
        return "%s: llama.cpp serves one GGUF file (give filename, or a path ending in .gguf), got the repository " \
               "%r" % (where, model.get("repo_id") or model["path"])
    return None


def context_override(s):
    """The trained context the command line overrides (--override-kv <arch>.context_length=int:N), or None."""
    args = s.get("extra_args") or []
    for flag, value in zip(args, args[1:]):
        match = re.match(r"^[a-z0-9_]+\.context_length=int:(\d+)$", value) if flag == "--override-kv" else None
        if match:
            return int(match.group(1))
    return None


def image_key(s):
    return "llamacpp_rocm" if s["device"] == "gpu" and s.get("backend") == "rocm" else "llamacpp"


def kv_spare_tokens(s):
    return 0


def container(s, d, part):
    """part: mount, served, bind, loopback, model, info, kv_mb."""
    gpu = s["device"] == "gpu"
    gguf = "%s/%s" % (part["mount"], posixpath.basename(part["model"]["path"]))
    command = ["-m", gguf, "-c", str(s["context"] * s["parallel"]), "-np", str(s["parallel"]),
               "-t", str(s["threads"]), "-ngl", "999" if gpu else "0"]
    # -ngl 0 alone still offloads prompt processing to a visible GPU (--op-offload): none keeps it off.
    command += [] if gpu else ["-dev", "none"]
    command += ["--alias", part["served"], "--host", part["bind"], "--port", str(s["port"])]
    command += ["--cache-ram", str(cache_ram_mb(s))]
    # Prometheus's counters on /metrics (with the key, like every route but /health): vLLM has them always.
    command += ["--metrics"]
    command += list(d.get("load_args") or [])
    command += ["--flash-attn", "on"] if gpu else []
    rope = part["info"]["rope"]
    if rope:
        command += ["--rope-scaling", "yarn", "--rope-scale", "%g" % rope["factor"],
                    "--yarn-orig-ctx", str(rope["original"])]
    return {
        "entrypoint": ["llama-server"], "command": command, "env": {}, "cache_dirs": [],
        "volumes": ["%s:%s:ro" % (posixpath.dirname(part["model"]["path"]), part["mount"])],
        "devices": list((d.get("gpu_devices") or {}).get(s.get("backend") or "vulkan", [])) if gpu else [],
        # The ROCm images are fedora-minimal without curl or python: bash's /dev/tcp, which every image has.
        "healthcheck": ["CMD", "bash", "-c", "exec 3<>/dev/tcp/%s/%d && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 "
                        "&& head -n 1 <&3 | grep -q ' 200 '" % (part["loopback"], s["port"])],
    }


def cache_ram_mb(s):
    return CACHE_RAM_MB if s.get("cache_ram_mb") is None else int(s["cache_ram_mb"])


def ledger_row(s, part):
    cache = cache_ram_mb(s)
    return {"mb": (part["weights"] or 0) + (part["kv"] or 0) + cache,
            "what": part["parts"] + (" + %.1f GiB prompt cache" % (cache / 1024.0) if cache else "")}


def check_together(tiers, d, problems, ledger):
    return None
