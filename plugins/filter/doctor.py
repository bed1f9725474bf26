# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's conformance: the doctor's rows, its table and the fleet's matrix (plugin_utils/doctor_checks.py),
and the lint of an opencode.jsonc (plugin_utils/opencode_lint.py).

doctor_rows(probe, expect)                            one box's rows (check, status, detail, fix)
doctor_summary(boxes)                                 whether any box failed, and which checks
doctor_table(rows)                                    one box's rows as text lines
doctor_matrix(boxes)                                  boxes down the side, checks across, as text lines
opencode_problems(text, tiers)                        what is wrong with one opencode.jsonc's models
opencode_cli_mismatch(version, plugin)                why an OpenCode CLI and its plugin do not go together, or ""
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.module_utils.jsonc import JsoncError, loads
from ansible_collections.strix.opencode.plugins.plugin_utils import doctor_checks, opencode_lint
from ansible_collections.strix.opencode.plugins.plugin_utils.amdgpu_driver import HostCheckError


def _opencode_b64(content, tiers):
    try:
        text = base64.b64decode(content).decode("utf-8")
    except (TypeError, ValueError) as error:
        return ["cannot be decoded: %s" % error]
    return opencode_problems(text, tiers)


def doctor_rows(probe, expect):
    try:
        return doctor_checks.doctor_rows(probe, expect, _opencode_b64)
    except (HostCheckError, KeyError) as error:
        raise AnsibleFilterError("doctor_rows: %s" % error)


def doctor_summary(boxes):
    return doctor_checks.summary(boxes)


def doctor_table(rows):
    return doctor_checks.table(rows)


def doctor_matrix(boxes):
    return doctor_checks.matrix(boxes)


def opencode_cli_mismatch(version, plugin):
    return doctor_checks.cli_plugin_mismatch(version, plugin)


def opencode_problems(text, tiers):
    try:
        config = loads(text)
    except (JsoncError, ValueError) as error:
        return ["it does not parse: %s" % error]
    if not isinstance(config, dict):
        return ["it is not a JSON object"]
    return opencode_lint.opencode_problems(config, tiers)


class FilterModule(object):
    def filters(self):
        return {"doctor_rows": doctor_rows, "doctor_summary": doctor_summary, "doctor_table": doctor_table,
                "doctor_matrix": doctor_matrix, "opencode_cli_mismatch": opencode_cli_mismatch,
                "opencode_problems": opencode_problems}
