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
    required: true
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
  backup:
    description: Keep a timestamped copy of the file before changing it.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the file before and after.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
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
  returned: always
  type: list
  elements: str
  sample: [agent, primary, model]
found:
  description: Whether the key path was in the file before the run.
  returned: always
  type: bool
  sample: true
before:
  description: The value at the key path before the run (null when it was not there).
  returned: always
  type: raw
  sample: local_orch/orch
after:
  description: The value at the key path after the run (null when removed).
  returned: always
  type: raw
  sample: cloud_planner/gpt-5
backup_file:
  description: The copy made before the change, when O(backup=true) and something changed.
  returned: changed and backup requested
  type: str
  sample: /home/dev/.config/opencode/opencode.jsonc.12345.2026-11-24@11:50:02~
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible_collections.strix.opencode.plugins.module_utils.jsonc import JsoncError, remove_value, set_value


def read_text(module, path):
    if not os.path.isfile(path):
        module.fail_json(msg="%s: no such file" % path, path=path)
    with open(path, "rb") as handle:
        return to_text(handle.read(), errors="surrogate_or_strict")


def write_atomically(module, path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(text, errors="surrogate_or_strict"))
        module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            key_path=dict(type="list", elements="str", required=True, no_log=False),
            value=dict(type="raw"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            missing=dict(type="str", choices=["create", "fail"], default="create"),
            backup=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["value"])],
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path, key_path, value = module.params["path"], module.params["key_path"], module.params["value"]
    if not key_path:
        module.fail_json(msg="key_path must name at least one key", path=path)

    text = read_text(module, path)
    try:
        if module.params["state"] == "present":
            edit = set_value(text, key_path, value, create=module.params["missing"] == "create")
        else:
            edit = remove_value(text, key_path)
    except JsoncError as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), path=path, line=exc.line, column=exc.column)

    result = dict(path=path, key_path=key_path, found=edit.found, before=edit.before,
                  after=value if module.params["state"] == "present" else None, changed=edit.text != text)
    if module._diff:
        result["diff"] = dict(before=text, after=edit.text, before_header=path, after_header=path)
    if result["changed"] and not module.check_mode:
        if module.params["backup"]:
            result["backup_file"] = module.backup_local(path)
        write_atomically(module, path, edit.text)
    file_args = module.load_file_common_arguments(module.params)
    result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
