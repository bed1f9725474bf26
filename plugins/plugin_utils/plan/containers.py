# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tier's container: its engine's part (command line, volumes, environment, devices, health check) and what
every tier's container has (name, image, key, groups, labels, URL)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import api_key_files, kv_mb, loopback
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import ENGINES


def tier_kv_mb(s, info):
    """A tier's KV cache in MiB (context x parallel sequences x the model's bytes per token, and any tokens its
    engine keeps aside), or None without the model's figure."""
    return kv_mb(s["context"], s["parallel"], info.get("kv_bytes_per_token"), ENGINES[s["engine"]].kv_spare_tokens(s))


def container(d, tier, s, model, info, problems):
    engine = ENGINES[s["engine"]]
    bind = d.get("bind_address", "127.0.0.1")
    served = s.get("served_name") or engine.served_name(model)
    # which strix_images entry the tier runs (what upgrade.yml's rollback sets back)
    image_key = engine.image_key(s)
    image = (d.get("images") or {}).get(image_key)
    if not image:
        problems.add("strix_images.%s is not set: tier %s (%s on the %s) runs it", image_key, tier, s["engine"],
                     s["device"].upper())
    box = engine.container(s, d, {"mount": "/models/%s" % tier, "served": served, "bind": bind,
                                  "loopback": loopback(bind), "model": model, "info": info,
                                  "kv_mb": tier_kv_mb(s, info)})
    box["env"].update(dict((str(k), str(v)) for k, v in (s.get("env") or {}).items()))
    box["command"] = box["command"] + list(s.get("extra_args", []))
    # The key reaches the server as LLAMA_API_KEY / VLLM_API_KEY from a root-only file on the box: never on the
    # command line, never in the plan.
    keys = api_key_files(d)
    box.update({
        "env_file": keys["env"] if keys else None,
        "image_key": image_key, "name": "%s-%s" % (d.get("stack_name"), tier), "image": image,
        "groups": list(d.get("gpu_groups") or []) if box["devices"] or s["device"] == "gpu" else [],
        "served_name": served, "url": "http://%s:%d" % (loopback(bind), s["port"]),
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
    })
    return box
