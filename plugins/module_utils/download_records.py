# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The models on a box checked against their download records (the .NAME.hf.json sidecars that hf_download and
hf_snapshot write): a file is verified when its record's size and modification time match it, a directory when
every file in it is. Read-only; host_probe's models."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.strix.opencode.plugins.module_utils.hf_fetch import sidecar_path


def _record_matches(path):
    try:
        with open(sidecar_path(path)) as handle:
            text = handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return "no download record"
    try:
        record = json.loads(text)
    except ValueError:
        return "its download record is not JSON"
    st = os.stat(path)
    if record.get("size") != st.st_size:
        return "%d bytes, the download record says %s" % (st.st_size, record.get("size"))
    if record.get("mtime_ns") is not None and record.get("mtime_ns") != st.st_mtime_ns:
        return "changed since it was verified (modification time)"
    return ""


def read_models(paths):
    models = []
    for path in paths:
        entry = {"path": path, "exists": os.path.exists(path), "verified": False, "reason": ""}
        if not entry["exists"]:
            entry["reason"] = "missing"
        elif os.path.isdir(path):
            problems = []
            for base, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in files:
                    if name.startswith(".") or name.endswith((".part", ".part.json", ".tmp")):
                        continue
                    reason = _record_matches(os.path.join(base, name))
                    if reason:
                        problems.append("%s: %s" % (os.path.relpath(os.path.join(base, name), path), reason))
            entry["verified"] = not problems
            entry["reason"] = "; ".join(problems[:3]) + (" (and %d more)" % (len(problems) - 3) if len(problems) > 3 else "")
        else:
            entry["reason"] = _record_matches(path)
            entry["verified"] = not entry["reason"]
        models.append(entry)
    return models
