#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hf_download
short_description: Download a file from the Hugging Face Hub, resumable and verified
version_added: 0.1.0
description:
  - Downloads one file of a Hugging Face Hub repository (or of a mirror speaking the Hub's protocol) at a
    revision, such as a 40 GB GGUF model.
  - An interrupted download (a dropped connection, a killed process, an interrupted play) continues from
    C(<dest>.part) on the next run. A server that answers the Range request with the whole file starts it over.
  - Size and hash (the sha256 the Hub publishes for large files, the git blob sha1 for small ones, and O(sha256)
    when given) are checked before the file is renamed to its final path, which never holds a partial or
    unverified file.
  - A sidecar file (C(.<name>.hf.json) beside it) records sha256, size, mtime and commit. A later run with the
    file untouched makes one HEAD request (none when O(sha256) is given and matches) and reads nothing from
    disk. A file whose size or mtime changed is hashed again, and downloaded again if it differs.
  - Free disk space is checked before a download starts.
  - Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  filename:
    description: The file's path inside the repository.
    type: str
    required: true
  dest:
    description:
      - Where to put the file. An existing directory (or a path ending in C(/)) gets the file under its own
        name (the last part of O(filename)); anything else is the full path of the file.
    type: path
    required: true
  sha256:
    description: The expected sha256 of the file. A mismatch fails, and the downloaded file is removed.
    type: str
extends_documentation_fragment:
  - strix.opencode.hf_hub
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Asks the Hub for the file's size and reports what would be downloaded; writes nothing.
  diff_mode:
    support: full
    description: Shows size and sha256 before and after, never file contents.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
seealso:
  - module: strix.opencode.hf_snapshot
"""

EXAMPLES = r"""
- name: Download the utility tier's GGUF
  strix.opencode.hf_download:
    repo_id: Qwen/Qwen2.5-3B-Instruct-GGUF
    filename: qwen2.5-3b-instruct-q4_k_m.gguf
    dest: /srv/strix/models/

- name: Download a gated model from a mirror, pinned to a commit and a digest
  strix.opencode.hf_download:
    repo_id: meta-llama/Llama-3.3-70B-Instruct
    filename: config.json
    revision: 6f6073b423013f6a7d4d9f39144961bfbfbc386b
    dest: /srv/strix/models/llama-config.json
    endpoint: http://hf-mirror.lan:8080
    token: "{{ hf_token }}"
    sha256: 0d7c5a1e0b4e9d6c2f6d2f8b1a3c4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
  sample: /srv/strix/models/qwen2.5-3b-instruct-q4_k_m.gguf
size:
  description: Its size in bytes.
  returned: always
  type: int
  sample: 2104932768
sha256:
  description: Its sha256 (null in check mode for a small file the Hub publishes no sha256 for).
  returned: always
  type: str
  sample: 626b4a6678b86442240e33df819e00132d3ba7dddfe1cdc4fbb18e0a9615c62d
commit:
  description: The repository commit the file came from.
  returned: always
  type: str
  sample: 9e3fb0c4a5e1c8a6f53c5d9b0a8f7d4f2e1c0b9a
bytes_transferred:
  description: Bytes downloaded in this run (0 when nothing was downloaded).
  returned: always
  type: int
  sample: 1052466384
would_download:
  description: In check mode, the bytes a real run would download.
  returned: check mode, when the file would be downloaded
  type: int
  sample: 2104932768
reason:
  description: In check mode, why a real run would download the file (not on the box, another version on the
    Hub, or a file on the box that does not match), and how much of an interrupted download it keeps.
  returned: check mode, when the file would be downloaded
  type: str
  sample: not on the box, resuming after 1052466384 bytes
source:
  description: Where the bytes of this run came from, when it downloaded (C(mirror), C(upstream), or C(upstream (the
    mirror lacks it))); null when nothing was downloaded.
  returned: always
  type: str
  sample: mirror
seconds:
  description: How long the run took.
  returned: always
  type: float
  sample: 21.4
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.strix.opencode.plugins.module_utils.hf_fetch import Fetch
from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import (
    HUB_ARGUMENT_SPEC, HubClient, HubError, diff_summary)


def destination(dest, filename):
    if dest.endswith("/") or os.path.isdir(dest):
        return os.path.join(dest, os.path.basename(filename))
    return dest


def main():
    module = AnsibleModule(
        argument_spec=dict(
            HUB_ARGUMENT_SPEC,
            filename=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            sha256=dict(type="str"),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    params = module.params
    client = HubClient.from_params(params)
    dest = destination(params["dest"], params["filename"])
    fetch = Fetch(client, params["repo_id"], params["filename"], params["revision"], dest,
                  sha256=params["sha256"], check_mode=module.check_mode, progress_file=params["progress_file"])
    try:
        result = fetch.run()
    except HubError as exc:
        module.fail_json(msg=to_native(exc), path=dest, **exc.details)
    before, after = result.pop("before"), result.pop("after")
    if module._diff:
        result["diff"] = diff_summary(before, after)
    if not module.check_mode or os.path.exists(dest):
        file_args = module.load_file_common_arguments(params, path=dest)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
