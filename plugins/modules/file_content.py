#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: file_content
short_description: A file with the given text, written atomically when it differs, in one step on the host
version_added: 0.1.0
description:
  - Makes the file at O(path) hold O(content), with the owner, group and mode given. The file is read, compared
    and, when it differs, written through a temporary file in the same directory and a rename, so a reader
    never sees half of it.
  - What M(ansible.builtin.copy) with C(content) and M(ansible.builtin.template) do for a file that needs no
    validation, in one module run on the host instead of five (a temporary directory, a C(stat), a C(file) and
    the directory's removal), so a converge that changes nothing makes a fifth of the connections. Render a
    template on the controller with the C(ansible.builtin.template) lookup and give the text as O(content).
  - The directory must exist; a missing one fails naming it, and nothing is written (in check mode the file is
    reported as written, since an earlier task of the run would have made the directory).
  - Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  path:
    description: The file to write.
    type: path
    required: true
  content:
    description:
      - The whole text of the file, written as UTF-8, byte for byte (a final newline only if the text has one).
      - For a secret, set C(no_log) on the task (or use M(strix.opencode.api_key) for the tiers' key).
    type: str
    required: true
  force:
    description:
      - V(false) leaves a file that exists as it is (content and attributes), like C(force=false) of
        M(ansible.builtin.copy), for a file that the user edits after the first write.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.files
  - strix.opencode.file_writer
notes:
  - Not for files that need a check before they take their name (C(validate) of M(ansible.builtin.template)),
    nor for binary files.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
  - plugin: ansible.builtin.template
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Write a systemd unit from the role's template
  strix.opencode.file_content:
    path: /etc/systemd/system/strix-tier-orch.service
    content: "{{ lookup('ansible.builtin.template', 'tier.service.j2') }}"
    owner: root
    group: root
    mode: "0644"

- name: Write a user's starting configuration once, leaving their later edits alone
  strix.opencode.file_content:
    path: /home/dev/.config/opencode/opencode.jsonc
    content: "{{ lookup('ansible.builtin.template', 'opencode.jsonc.j2') }}"
    force: false
    owner: dev
    group: dev
    mode: "0644"
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
  sample: /etc/systemd/system/strix-tier-orch.service
existed:
  description: Whether the file was there before this run.
  returned: always
  type: bool
  sample: true
content_changed:
  description: Whether the text was (or, in check mode, would be) written.
  returned: always
  type: bool
  sample: false
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.strix.opencode.plugins.module_utils.atomic_file import write_atomically


def read_bytes(path):
    """The file's bytes, or None when there is no file."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            content=dict(type="str", required=True),
            force=dict(type="bool", default=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    wanted = to_bytes(module.params["content"], errors="surrogate_or_strict")
    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not a file" % path, path=path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        if module.check_mode:  # made by an earlier task of the run, which check mode only reported
            module.exit_json(path=path, existed=False, content_changed=True, changed=True)
        module.fail_json(msg="%s: the directory %s does not exist" % (path, directory), path=path)

    old = read_bytes(path)
    output = dict(path=path, existed=old is not None, content_changed=False, changed=False)
    if old is not None and not module.params["force"]:
        module.exit_json(**output)
    output["content_changed"] = output["changed"] = old != wanted
    if output["changed"] and not module.check_mode:
        write_atomically(module, path, wanted)
    attributes = {}
    file_args = module.load_file_common_arguments(module.params)
    output["changed"] = module.set_fs_attributes_if_different(file_args, output["changed"], diff=attributes)
    if module._diff:
        output["diff"] = [dict(before_header=path, after_header=path,
                               before=to_text(old, errors="surrogate_or_strict") if old is not None else "",
                               after=to_text(wanted, errors="surrogate_or_strict"))]
        if attributes:
            output["diff"].append(attributes)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
