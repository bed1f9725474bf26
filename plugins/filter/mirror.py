# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The models a LAN mirror holds for a fleet: every Hub model the boxes plan, once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def mirror_models(plans):
    """From the boxes' plans (strix_plan of each), the distinct Hub models: {repo_id, filename} for a GGUF file,
    {repo_id, allow_patterns, ignore_patterns} for a repository, each with revision and sha256. Models given by
    path (already on a box) are not the mirror's to hold."""
    if not isinstance(plans, (list, tuple)):
        raise AnsibleFilterError("mirror_models needs a list of plans (strix_plan of each box)")
    found = {}
    for plan in plans:
        for tier in (plan or {}).get("tiers") or []:
            model = tier.get("model") or {}
            if model.get("source") != "hub":
                continue
            if model.get("kind") == "file":
                entry = {"repo_id": model["repo_id"], "filename": model["filename"]}
            else:
                entry = {"repo_id": model["repo_id"], "allow_patterns": list(model.get("allow_patterns") or []),
                         "ignore_patterns": list(model.get("ignore_patterns") or [])}
            entry.update(revision=model.get("revision") or "main", sha256=model.get("sha256") or "",
                         endpoint=model.get("endpoint") or "")
            key = (entry["repo_id"], entry.get("filename", ""), entry["revision"],
                   tuple(entry.get("allow_patterns", ())), tuple(entry.get("ignore_patterns", ())))
            found.setdefault(key, entry)
    return [found[key] for key in sorted(found)]


def mirror_download(model, commit, root, endpoint):
    """One of mirror_models' entries as the models role's download entry point takes a model (the shape of the
    plan's downloads): fetched from the Hub (endpoint) at the commit into <root>/<repo_id>/<commit>/."""
    if not isinstance(model, dict) or not model.get("repo_id") or not commit:
        raise AnsibleFilterError("mirror_download needs a model of mirror_models and the Hub's commit for it")
    filename = model.get("filename") or ""
    path = "%s/%s/%s" % (str(root).rstrip("/"), model["repo_id"], commit)
    return {"kind": "file" if filename else "repo", "repo_id": model["repo_id"], "filename": filename,
            "revision": commit, "sha256": model.get("sha256") or "",
            "allow_patterns": list(model.get("allow_patterns") or []),
            "ignore_patterns": list(model.get("ignore_patterns") or []),
            "endpoint": endpoint, "mirror": "", "path": path + ("/" + filename if filename else ""),
            "reason": "for the mirror"}


class FilterModule(object):
    def filters(self):
        return {"mirror_models": mirror_models, "mirror_download": mirror_download}
