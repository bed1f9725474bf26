# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tier's model: where it comes from and lives on the box, and what it says of itself (read on the box, else the
catalog's figures); and the glue that turns the box's and the Hub's answers into the plan's model facts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath
import re

from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import catalog_facts, catalog_sha256
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import is_int
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import ENGINES

MODEL_KEYS = ("repo_id", "revision", "filename", "sha256", "allow_patterns", "ignore_patterns", "path")


def resolve(d, tier, s, problems):
    """The tier's model ({source, kind, path, ...}), or None when it cannot be told."""
    where = "strix_tiers.%s.model" % tier
    spec = s.get("model")
    if not isinstance(spec, dict) or not (spec.get("repo_id") or spec.get("path")):
        problems.add("%s needs a repo_id (a Hugging Face repository) or a path on the box, got %r", where, spec)
        return None
    for key in sorted(set(spec) - set(MODEL_KEYS)):
        problems.add("%s: unknown key %r (keys: %s)", where, key, ", ".join(MODEL_KEYS))
    models_dir = d.get("models_dir") or ""
    if spec.get("path"):
        path = spec["path"]
        if not posixpath.isabs(path):
            problems.add("%s.path must be an absolute path, got %r", where, path)
        kind = "file" if path.endswith(".gguf") else "repo"
        model = {"source": "local", "kind": kind, "path": path, "repo_id": spec.get("repo_id", ""),
                 "revision": spec.get("revision", ""), "sha256": spec.get("sha256", "")}
    else:
        repo_id = spec["repo_id"]
        if not isinstance(repo_id, str) or repo_id.count("/") != 1 or repo_id.startswith("/") or ".." in repo_id:
            problems.add("%s.repo_id must be owner/name, got %r", where, repo_id)
            return None
        filename = spec.get("filename")
        model = {"source": "hub", "repo_id": repo_id, "revision": spec.get("revision") or "main",
                 "sha256": (spec.get("sha256") or "").lower(), "endpoint": d.get("hf_endpoint", ""),
                 "mirror": d.get("models_mirror") or ""}
        if filename:
            model.update(kind="file", filename=filename, path=posixpath.join(models_dir, posixpath.basename(filename)))
            # a file the catalog knows is verified against its sha256 when the inventory gives none
            model["sha256"] = model["sha256"] or catalog_sha256(model)
        else:
            model.update(kind="repo", allow_patterns=list(spec.get("allow_patterns") or []),
                         ignore_patterns=list(spec.get("ignore_patterns") or []), path=posixpath.join(models_dir, repo_id))
    wrong = ENGINES[s["engine"]].model_problem(where, model)
    if wrong:
        problems.add(wrong)
    if model["sha256"] and not re.match(r"^[0-9a-f]{64}$", model["sha256"]):
        problems.add("%s.sha256 must be 64 hexadecimal digits, got %r", where, model["sha256"])
    return model


def model_info(tier, s, model, box_facts, problems):
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
    trained = info.get("context_length") if is_int(info.get("context_length"), 1) else None
    said = "its config.json's max_position_embeddings" if info.get("format") == "hf" else \
        "its GGUF metadata's context_length"
    override = ENGINES[s["engine"]].context_override(s)
    if override:
        trained, said = override, "--override-kv in %s.extra_args" % where
    rope = None
    if trained and s["context"] > trained:
        if s.get("rope_scaling") != "yarn":
            problems.add("%s.context %d is above the %d tokens %s was trained for (%s); lower it to %d, or set "
                         "%s.rope_scaling: yarn to stretch the model with YaRN", where, s["context"], trained, name,
                         said, trained, where)
        else:
            rope = {"type": "yarn", "factor": round(s["context"] / float(trained), 4), "original": trained}
    hand = s.get("kv_bytes_per_token")
    kv = info.get("kv_bytes_per_token")
    if kv and hand and hand != kv:
        problems.add("%s.kv_bytes_per_token %d differs from the %d bytes per token that %s's own figures give "
                     "(%d layers x %d KV heads x %d+%d x %d bytes); remove the setting", where, hand, kv, name,
                     info.get("layers"), info.get("kv_heads"), info.get("key_length"), info.get("value_length"),
                     kv // max(1, info["layers"] * info["kv_heads"] * (info["key_length"] + info["value_length"])))
    return {"source": info.get("source"), "unreadable": unreadable, "trained_context": trained, "rope": rope,
            "kv_bytes_per_token": kv or hand or None, "kv_source": "model" if kv else ("setting" if hand else None),
            # the files' own size (on the box, or the Hub's) before the catalog's
            "weights_bytes": (info.get("weights_bytes") if info.get("source") == "box" else None) or
            model.get("size") or info.get("weights_bytes"),
            "architecture": info.get("architecture")}


def model_checks(needed, files, file_checks=None, repo_checks=None):
    """What the box and the Hub say of each model: the models the description needs (strix_models), the files'
    state on the box (model_facts' files), and the check-mode hf_download / hf_snapshot runs, as
    [{path, exists, size, would_download, reason}]."""
    found = {}
    for model in needed or []:
        state = (files or {}).get(model["path"]) or {}
        found[model["path"]] = {"path": model["path"], "exists": bool(state.get("exists")),
                                "size": state.get("size") if state.get("isreg") else None,
                                "would_download": 0, "reason": ""}
    for result in list(file_checks or []) + list(repo_checks or []):
        if result.get("skipped") or "item" not in result:
            continue
        entry = found.setdefault(result["item"]["path"], {"path": result["item"]["path"], "exists": False})
        entry["size"] = result.get("size", entry.get("size"))
        entry["would_download"] = int(result.get("would_download") or 0)
        entry["reason"] = result.get("reason") or ""
    return list(found.values())
