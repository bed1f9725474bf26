#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: jsonc_value
short_description: Set or remove one value in a JSON-with-comments file, keeping everything else as it was
version_added: 0.1.0
description:
  - Sets the value at a key path in a JSONC file (JSON with C(//) and C(/* */) comments and trailing commas),
    such as OpenCode's C(opencode.jsonc), or removes the member at that path.
  - Only the bytes of that value change. Comments, trailing commas, indentation, key order and every other
    value stay byte for byte. A new member is added after the last member of its object, in the same style.
  - Values compare as JSON, not as text, so C(1) and C(1.0), or objects whose keys are in another order, are
    equal and the module reports no change.
  - A malformed document (an unterminated comment or string, a duplicate key on the path, something that is
    not an object on the way) fails with the file, line and column, and the file is left untouched.
  - Several edits of one file can be given at once with O(edits); they are applied in order, and the file is
    read once and written once.
  - The file is written atomically (a temporary file in the same directory, then a rename).
  - Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  path:
    description: The JSONC file. It must exist.
    type: path
    required: true
  key_path:
    description:
      - Keys from the top of the document to the value, one list element per key.
      - A list rather than a dotted string, because keys such as C(Qwen/Qwen2.5-14B-Instruct) or C(gpt-5.1)
        contain dots and slashes.
    type: list
    elements: str
  value:
    description:
      - The value to set, any JSON type (string, number, boolean, null, list or dictionary).
      - Required when O(state=present).
    type: raw
  state:
    description:
      - V(present) sets the value; V(absent) removes the member at O(key_path) (nothing happens when it is not there).
    type: str
    choices: [present, absent]
    default: present
  missing:
    description:
      - What to do when O(key_path) does not exist and O(state=present).
      - V(create) adds the member, and any objects missing on the way; V(fail) fails naming the missing key.
    type: str
    choices: [create, fail]
    default: create
  edits:
    description:
      - Several edits, applied in order, instead of O(key_path), O(value) and O(state).
      - Each has C(key_path), C(value) (for C(state=present)) and C(state), with the meaning of the options of
        the same names; O(missing) applies to all of them.
    type: list
    elements: dict
    suboptions:
      key_path:
        description: Keys from the top of the document to the value.
        type: list
        elements: str
        required: true
      value:
        description: The value to set.
        type: raw
      state:
        description: V(present) sets the value; V(absent) removes the member.
        type: str
        choices: [present, absent]
        default: present
      keep:
        description:
          - Values the member may keep. When the member is there and holds one of them, this edit changes
            nothing; otherwise C(value) is set. For a choice that another task makes, such as OpenCode's
            primary model after a switch, which a converge must keep unless it names something gone.
        type: list
        elements: raw
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
  - strix.opencode.file_writer
notes:
  - Keys on the path must be unique in their object; a duplicate fails, since a reader would take one or
    the other.
seealso:
  - module: ansible.builtin.lineinfile
"""

EXAMPLES = r"""
- name: Point OpenCode's primary agent at the cloud planner
  strix.opencode.jsonc_value:
    path: /home/dev/.config/opencode/opencode.jsonc
    key_path: [agent, primary, model]
    value: cloud_planner/gpt-5

- name: Set a provider's base URL, failing if the provider is not in the file
  strix.opencode.jsonc_value:
    path: /home/dev/.config/opencode/opencode.jsonc
    key_path: [provider, local_orch, options, baseURL]
    value: http://127.0.0.1:8001/v1
    missing: fail

- name: Set several values of one file in one write
  strix.opencode.jsonc_value:
    path: /home/dev/.config/opencode/opencode.jsonc
    edits:
      - key_path: [model]
        value: local_orch/orch
      - key_path: [agent, primary, model]
        value: local_orch/orch
      - key_path: [provider, local_reviewer]
        state: absent

- name: Point the primary model at the orchestrator unless it is already on one of the valid choices
  strix.opencode.jsonc_value:
    path: /home/dev/.config/opencode/opencode.jsonc
    edits:
      - key_path: [model]
        value: local_orch/orch
        keep: [local_orch/orch, cloud_planner/gpt-5]

- name: Lift an agent's output-token cap
  strix.opencode.jsonc_value:
    path: /home/dev/.omo/omo.jsonc
    key_path: ["[opencode]", agents, sisyphus, maxTokens]
    state: absent
    backup: true
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
  sample: /home/dev/.config/opencode/opencode.jsonc
key_path:
  description: The key path, as given.
  returned: when O(key_path) is given
  type: list
  elements: str
  sample: [agent, primary, model]
found:
  description: Whether the key path was in the file before the run.
  returned: when O(key_path) is given
  type: bool
  sample: true
before:
  description: The value at the key path before the run (null when it was not there).
  returned: when O(key_path) is given
  type: raw
  sample: local_orch/orch
after:
  description: The value at the key path after the run (null when removed).
  returned: when O(key_path) is given
  type: raw
  sample: cloud_planner/gpt-5
changes:
  description: The edits that changed something, each with its key path and the value before and after.
  returned: always
  type: list
  elements: dict
  sample: [{key_path: [agent, primary, model], before: local_orch/orch, after: cloud_planner/gpt-5}]
backup_file:
  description: The copy made before the change, when O(backup=true) and something changed.
  returned: changed and backup requested
  type: str
  sample: /home/dev/.config/opencode/opencode.jsonc.12345.2026-11-24@11:50:02~
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible_collections.strix.opencode.plugins.module_utils.atomic_file import write_atomically
from ansible_collections.strix.opencode.plugins.module_utils.jsonc import Edit, JsoncError, json_equal, loads
from ansible_collections.strix.opencode.plugins.module_utils.jsonc_edit import remove_value, set_value


def read_text(module, path):
    if not os.path.isfile(path):
        module.fail_json(msg="%s: no such file" % path, path=path)
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def current(text, path):
    """The value at path, and whether it is there."""
    node = loads(text)
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None, False
        node = node[key]
    return node, True


def apply(text, edit, create):
    """Apply one edit ({key_path, value, state, keep}) to text; return the jsonc Edit."""
    if not edit["key_path"]:
        raise ValueError("key_path must name at least one key")
    if edit["state"] == "present" and edit.get("keep"):
        value, found = current(text, edit["key_path"])
        if found and any(json_equal(value, kept) for kept in edit["keep"]):
            return Edit(text, True, value)
    if edit["state"] == "present":
        return set_value(text, edit["key_path"], edit["value"], create=create)
    return remove_value(text, edit["key_path"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            key_path=dict(type="list", elements="str", no_log=False),
            value=dict(type="raw"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            edits=dict(type="list", elements="dict", options=dict(
                key_path=dict(type="list", elements="str", required=True, no_log=False),
                value=dict(type="raw"),
                state=dict(type="str", choices=["present", "absent"], default="present"),
                keep=dict(type="list", elements="raw"),
            ), required_if=[("state", "present", ["value"])]),
            missing=dict(type="str", choices=["create", "fail"], default="create"),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("key_path", "edits")],
        required_one_of=[("key_path", "edits")],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    path = params["path"]
    single = params["edits"] is None
    if single and params["state"] == "present" and params["value"] is None:
        module.fail_json(msg="value is required when state is present", path=path)
    edits = ([dict(key_path=params["key_path"], value=params["value"], state=params["state"], keep=None)] if single
             else params["edits"])

    original = text = read_text(module, path)
    changes = []
    for edit in edits:
        try:
            result = apply(text, edit, params["missing"] == "create")
        except (JsoncError, ValueError) as exc:
            details = dict(line=exc.line, column=exc.column) if isinstance(exc, JsoncError) else {}
            module.fail_json(msg="%s: %s" % (path, to_native(exc)), path=path, key_path=edit["key_path"], **details)
        after = (edit["value"] if edit["state"] == "present" else None) if result.text != text else result.before
        if result.text != text:
            changes.append(dict(key_path=edit["key_path"], before=result.before, after=after))
        text = result.text

    output = dict(path=path, changes=changes, changed=text != original)
    if single:
        output.update(key_path=params["key_path"], found=result.found, before=result.before, after=after)
    if module._diff:
        output["diff"] = dict(before=original, after=text, before_header=path, after_header=path)
    if output["changed"] and not module.check_mode:
        if params["backup"]:
            output["backup_file"] = module.backup_local(path)
        write_atomically(module, path, text)
    file_args = module.load_file_common_arguments(params)
    output["changed"] = module.set_fs_attributes_if_different(file_args, output["changed"])
    module.exit_json(**output)


if __name__ == "__main__":
    main()
