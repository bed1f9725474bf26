# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenCode files the opencode role manages, and the edits that keep each one in line with the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.module_utils.jsonc import JsoncError, loads
from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import switch_problem


def opencode_targets(passwd, users, project_dirs):
    """The files the role manages: a pair per user (in their home) and per project directory.

    passwd is the getent passwd fact (name -> [password, uid, gid, gecos, home, shell]); project_dirs
    the stat results of the project directories (their owner owns the files).
    """
    missing = [user for user in users if user not in passwd]
    if missing:
        raise AnsibleFilterError("opencode_users: no such user(s): %s" % ", ".join(missing))
    targets = []
    for user in users:
        home = passwd[user][4].rstrip("/") or "/"
        targets.append(_target(home + "/.config/opencode", home + "/.omo", user, int(passwd[user][2]), home))
    for result in project_dirs:
        if not result["stat"].get("isdir"):
            raise AnsibleFilterError("opencode_project_dirs: %s is not a directory" % result["item"])
        directory = result["stat"]["path"].rstrip("/")
        owner = result["stat"]["pw_name"]
        home = (passwd[owner][4].rstrip("/") or "/") if owner in passwd else None
        targets.append(_target(directory, directory + "/.omo", owner, result["stat"]["gid"], home))
    return targets


def _target(config_dir, plugin_dir, owner, group, home):
    # The tiers' API key for this owner, where opencode.jsonc's {file:~/.config/opencode/strix-api-key} finds it.
    return {"config_dir": config_dir, "config": config_dir + "/opencode.jsonc",
            "plugin_dir": plugin_dir, "plugin": plugin_dir + "/omo.jsonc", "owner": owner, "group": group,
            "key_file": home + "/.config/opencode/strix-api-key" if home else None}


def opencode_remote(layout, address):
    """The box's OpenCode layout for a machine on its network: every local tier's baseURL at address instead of
    the box's loopback address. The rest (models, agents, the switch, the key's file reference) is the box's."""
    if not address or not re.match(r"^[A-Za-z0-9_.:\[\]-]+$", str(address)):
        raise AnsibleFilterError("opencode_box_address must be a host name or IP address, got %r" % (address,))

    def moved(url):
        return re.sub(r"^http://[^/]+:(\d+)/v1$", lambda m: "http://%s:%s/v1" % (address, m.group(1)), url)

    layout = copy.deepcopy(layout)
    for name, provider in layout.get("providers", {}).items():
        if name.startswith("local_"):
            provider["options"]["baseURL"] = moved(provider["options"]["baseURL"])
    for edit in layout.get("config_edits", []):
        path = edit.get("key_path") or []
        if len(path) == 4 and path[0] == "provider" and str(path[1]).startswith("local_") and path[3] == "baseURL":
            edit["value"] = moved(edit["value"])
    return layout


def opencode_edits(layout, current_text=None, orch=None):
    """The edits of one opencode.jsonc (config) and its omo.jsonc (plugin) that bring them in line.

    The primary agent's model is a choice: -e orch=cloud or orch=local (vllm) makes it; otherwise the
    choice the file already holds stays (the cloud planner, or the box's own primary tier), and a file
    whose primary names something the box no longer runs goes back to the plan's default."""
    choice = {"vllm": "local"}.get(orch, orch)
    if not choice:
        current = None
        if current_text:
            try:
                current = loads(current_text).get("model")
            except (JsoncError, AttributeError):
                current = None
        held = [name for name, switch in layout["switch"].items() if switch["primary"] == current]
        choice = held[0] if held else layout["default_choice"]
    switch = layout["switch"][choice]
    return {"choice": choice, "primary": switch["primary"],
            "config": layout["config_edits"] + switch["switch_config_edits"],
            "plugin": layout["plugin_edits"] + switch["switch_plugin_edits"]}


def opencode_switch_problem(layout, orch, where):
    """What stops -e orch=<orch> on an OpenCode layout, or an empty string."""
    return switch_problem(layout, orch, where)


class FilterModule(object):
    def filters(self):
        return {"opencode_targets": opencode_targets, "opencode_edits": opencode_edits,
                "opencode_remote": opencode_remote, "opencode_switch_problem": opencode_switch_problem}
