# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an upgrade changes on a box, and what puts the box back (upgrade.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def _model_of(tier):
    model = tier.get("model") or {}
    return {"path": model.get("path") or "", "revision": model.get("revision") or "", "sha256": model.get("sha256") or ""}


def upgrade_changes(plan, record):
    """The changes the plan makes to what the box runs (record: /etc/ansible/facts.d/strix_tiers.fact), one per tier
    and kind: {tier, what (image, model, tier), before, after}."""
    if not isinstance(plan, dict) or not isinstance(record, dict):
        raise AnsibleFilterError("upgrade_changes needs the plan and the box's record (dictionaries)")
    changes = []
    planned = dict((t["tier"], t) for t in plan.get("tiers") or [])
    for name in sorted(set(planned) | set(record)):
        tier, ran = planned.get(name), record.get(name)
        if tier is None or ran is None:
            changes.append({"tier": name, "what": "tier", "before": "runs" if ran else "absent",
                            "after": "runs" if tier else "absent"})
            continue
        if tier["container"]["image"] not in (ran.get("image"), ran.get("image_id")):
            changes.append({"tier": name, "what": "image", "before": ran.get("image"), "after": tier["container"]["image"]})
        now = _model_of(tier)
        before = {"path": ran.get("model_path") or "", "revision": ran.get("model_revision") or "",
                  "sha256": ran.get("model_sha256") or ""}
        if now != before:
            changes.append({"tier": name, "what": "model",
                            "before": "%s@%s" % (before["path"], before["revision"] or before["sha256"] or "-"),
                            "after": "%s@%s" % (now["path"], now["revision"] or now["sha256"] or "-")})
    return changes


def upgrade_rollback(record, plan):
    """What puts the box back on what it ran before (record), as the plan role's plan_override: images, every image
    entry a tier used set to the id the box ran (it is still on the box); tiers, every model at the revision and
    sha256 the box ran (in its engine's section, which wins over the tier's own model)."""
    if not isinstance(record, dict) or not record:
        raise AnsibleFilterError("upgrade_rollback needs the box's record of what it ran before (strix_tiers.fact)")
    images, tiers = {}, {}
    planned = dict((t["tier"], t) for t in (plan or {}).get("tiers") or [])
    for name, ran in sorted(record.items()):
        if ran.get("image_key") and ran.get("image_id"):
            images[ran["image_key"]] = ran["image_id"]
        tier = planned.get(name)
        if tier is None:
            continue
        model = tier.get("model") or {}
        if model.get("source") == "hub":
            spec = {"repo_id": model["repo_id"], "revision": ran.get("model_revision") or "main"}
            if model.get("kind") == "file":
                spec["filename"] = model["filename"]
            else:
                spec.update(allow_patterns=model.get("allow_patterns") or [],
                            ignore_patterns=model.get("ignore_patterns") or [])
            if ran.get("model_sha256"):
                spec["sha256"] = ran["model_sha256"]
        else:
            spec = {"path": ran.get("model_path") or model.get("path")}
        tiers[name] = {tier["engine"]: {"model": spec}}
    return {"images": images, "tiers": tiers}


def upgrade_gateway_pools(records, box):
    """Where a box sits behind gateways: from the gateways' records ({gateway: ansible_local.strix_gateway}), one
    {gateway, tier, socket} per gateway pool (a tier's backend) the box is in."""
    pools = []
    for gateway in sorted(records or {}):
        record = records[gateway] or {}
        for tier, pool in sorted((record.get("tiers") or {}).items()):
            if box in [server.get("name") for server in pool.get("servers") or []]:
                pools.append({"gateway": gateway, "tier": tier, "socket": record.get("admin_socket")})
    return pools


class FilterModule(object):
    def filters(self):
        return {"upgrade_changes": upgrade_changes, "upgrade_rollback": upgrade_rollback,
                "upgrade_gateway_pools": upgrade_gateway_pools}
