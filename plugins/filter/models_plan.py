# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the models role fetches for each tier, and where it puts it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.errors import AnsibleFilterError


def models_plan(tiers, catalog, models_dir):
    """One entry per tier: tier, name, kind (file or repo), repo_id, revision, filename, sha256,
    allow_patterns, ignore_patterns, and path (the GGUF file, or the repository's directory)."""
    plan = []
    for tier in tiers:
        entry = catalog.get(tier)
        if not isinstance(entry, dict) or not entry.get("repo_id"):
            raise AnsibleFilterError("models_catalog.%s needs a repo_id" % tier)
        repo_id = entry["repo_id"]
        if repo_id.count("/") != 1 or repo_id.startswith("/") or ".." in repo_id:
            raise AnsibleFilterError("models_catalog.%s.repo_id must be owner/name, got %r" % (tier, repo_id))
        filename = entry.get("filename")
        item = {
            "tier": tier,
            "repo_id": repo_id,
            "revision": entry.get("revision") or "main",
            "filename": filename,
            "sha256": entry.get("sha256") or "",
            "allow_patterns": list(entry.get("allow_patterns") or []),
            "ignore_patterns": list(entry.get("ignore_patterns") or []),
        }
        if filename:
            item.update(kind="file", name="%s (%s)" % (tier, posixpath.basename(filename)),
                        path=posixpath.join(models_dir, posixpath.basename(filename)))
        else:
            item.update(kind="repo", name="%s (%s)" % (tier, repo_id), path=posixpath.join(models_dir, repo_id))
        plan.append(item)
    return plan


class FilterModule(object):
    def filters(self):
        return {"models_plan": models_plan}
