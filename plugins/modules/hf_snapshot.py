#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: hf_snapshot
short_description: Download a whole Hugging Face Hub repository at a revision, resumable and verified
version_added: 0.1.0
description:
  - Lists the files of a repository at a revision (C(GET /api/models/{repo}/revision/{revision})), keeps those
    matching O(allow_patterns) and none of O(ignore_patterns), and downloads each into O(local_dir) with the
    same resume, verification and no-op rules as M(strix.opencode.hf_download).
  - Made for the vLLM tiers, whose safetensors (28 GB and 57 GB) would otherwise be downloaded inside the
    container while its health check waits; vLLM then serves the directory with the Hub offline.
  - All files are pinned to the commit the revision pointed at when the listing was made.
  - Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  local_dir:
    description: The directory to download into; the repository's subdirectories are kept.
    type: path
    required: true
  allow_patterns:
    description: Shell-style patterns (C(*.safetensors), C(tokenizer*)); only matching files are fetched. All when empty.
    type: list
    elements: str
    default: []
  ignore_patterns:
    description: Shell-style patterns of files to leave out.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - strix.opencode.hf_hub
attributes:
  check_mode:
    support: full
    description: Reports the files and bytes that would be downloaded; writes nothing.
  diff_mode:
    support: full
    description: Lists the files that would change, with sizes; never contents.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
seealso:
  - module: strix.opencode.hf_download
"""

EXAMPLES = r"""
- name: Fetch the orchestrator's weights for vLLM
  strix.opencode.hf_snapshot:
    repo_id: Qwen/Qwen2.5-14B-Instruct
    local_dir: /srv/strix/models/Qwen/Qwen2.5-14B-Instruct
    allow_patterns: ["*.safetensors", "*.json", "tokenizer*", "*.txt"]
"""

RETURN = r"""
commit:
  description: The commit all files were taken from.
  returned: always
  type: str
  sample: cf98f3b3bbb457ad9e2bb7baf9a0125b6b88caa8
files:
  description: Each selected file with its path, size, sha256, whether it changed, the bytes transferred and where they
    came from (C(source), as M(strix.opencode.hf_download) returns it).
  returned: always
  type: list
  elements: dict
  sample: [{name: model-00001-of-00008.safetensors, size: 3945441440, changed: true, bytes_transferred: 3945441440,
            source: mirror}]
files_fetched:
  description: How many files were downloaded (or would be, in check mode).
  returned: always
  type: int
  sample: 12
bytes_transferred:
  description: Bytes downloaded in this run.
  returned: always
  type: int
  sample: 29540000000
would_download:
  description: In check mode, the bytes a real run would download.
  returned: check mode
  type: int
  sample: 29540000000
reason:
  description: In check mode, why a real run would download, file by file (empty when nothing would be).
  returned: check mode
  type: str
  sample: "model-00001-of-00008.safetensors: not on the box"
size:
  description: The bytes of all selected files together (what the model takes on disk).
  returned: always
  type: int
  sample: 29540000000
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.strix.opencode.plugins.module_utils.hf_fetch import Fetch
from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import (
    HUB_ARGUMENT_SPEC, HubClient, HubError, select_files)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            HUB_ARGUMENT_SPEC,
            local_dir=dict(type="path", required=True),
            allow_patterns=dict(type="list", elements="str", default=[]),
            ignore_patterns=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    client = HubClient.from_params(params)
    try:
        commit, names = client.list_files(params["repo_id"], params["revision"])
        selected = select_files(names, params["allow_patterns"], params["ignore_patterns"])
        if not selected:
            module.fail_json(msg="%s@%s: no file matches allow_patterns %s / ignore_patterns %s"
                             % (params["repo_id"], params["revision"], params["allow_patterns"], params["ignore_patterns"]))
        files = []
        for name in selected:
            dest = os.path.join(params["local_dir"], *name.split("/"))
            result = Fetch(client, params["repo_id"], name, commit or params["revision"], dest,
                           check_mode=module.check_mode, progress_file=params["progress_file"]).run()
            files.append(dict(name=name, path=dest, size=result["size"], sha256=result["sha256"],
                              changed=result["changed"], bytes_transferred=result["bytes_transferred"],
                              source=result.get("source"),
                              would_download=result.get("would_download", 0), reason=result.get("reason", "")))
    except HubError as exc:
        module.fail_json(msg=to_native(exc))
    changed = [f for f in files if f["changed"]]
    output = dict(changed=bool(changed), commit=commit, files=files, files_fetched=len(changed),
                  bytes_transferred=sum(f["bytes_transferred"] for f in files), size=sum(f["size"] for f in files))
    if module.check_mode:
        output["would_download"] = sum(f["would_download"] for f in files)
        output["reason"] = "; ".join("%s: %s" % (f["name"], f["reason"]) for f in files if f["reason"])
    if module._diff:
        output["diff"] = dict(before="".join("%s\n" % f["name"] for f in files if not f["changed"]),
                              after="".join("%s (%d bytes)\n" % (f["name"], f["size"]) for f in files))
    module.exit_json(**output)


if __name__ == "__main__":
    main()
