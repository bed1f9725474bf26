#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: model_facts
short_description: Read what a model says of itself (GGUF header, or a Hugging Face snapshot's config.json)
version_added: 0.2.0
description:
  - For a GGUF file, reads the header's metadata (not the tensors), so it takes a fraction of a second even for
    a file of tens of GB; returns the architecture, the trained context (C(<arch>.context_length)), the blocks,
    attention heads and KV heads, the key and value lengths, any rope scaling, the file type and the file size.
  - For a directory (a Hugging Face snapshot), reads C(config.json) (C(max_position_embeddings), C(rope_scaling),
    C(num_hidden_layers), C(num_key_value_heads), C(head_dim), C(torch_dtype); a C(text_config) when there is
    one) and adds up the C(*.safetensors) sizes.
  - From those, the KV cache's bytes per token (2 x layers x KV heads x head size x bytes per element; f16 for
    llama.cpp, the model's dtype for vLLM), so that no one has to enter it by hand.
  - Fails, naming the file, for a path that is missing, not GGUF, truncated, or a directory without a readable
    C(config.json). Runs with Python's standard library only and changes nothing.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  paths:
    description: Model files (GGUF) and snapshot directories (Hugging Face) to read.
    type: list
    elements: path
    required: true
  on_error:
    description:
      - V(fail) fails the task on the first path that cannot be read, naming it.
      - V(report) goes on, and gives such a path an C(error) (the reason) instead of its figures; the plan uses this
        so that a file it cannot read falls back to the catalog rather than stopping a run.
    type: str
    choices: [fail, report]
    default: fail
  skip_missing:
    description:
      - Leave a path that does not exist out of RV(models) instead of treating it as an error; RV(files) says it
        is missing. The plan and the stack role look at the models they need, some not yet downloaded, in one call.
    type: bool
    default: false
    version_added: 0.1.0
extends_documentation_fragment:
  - strix.opencode.read_only
"""

EXAMPLES = r"""
- name: Read the models of the tiers
  strix.opencode.model_facts:
    paths:
      - /var/lib/strix/models/SmolLM2-135M-Instruct.Q4_1.gguf
      - /var/lib/strix/models/Qwen2.5-14B-Instruct
  register: facts

- name: The trained context of the first
  ansible.builtin.debug:
    msg: "{{ facts.models['/var/lib/strix/models/SmolLM2-135M-Instruct.Q4_1.gguf'].context_length }}"
"""

RETURN = r"""
models:
  description: The facts of each path, by path. Figures the model does not state are null. With O(on_error=report), a
    path that cannot be read has only C(error).
  returned: always
  type: dict
  contains:
    format:
      description: V(gguf) or V(hf).
      type: str
    architecture:
      description: The GGUF C(general.architecture) (e.g. C(llama)) or the first of config.json's C(architectures).
      type: str
    context_length:
      description: The context the model was trained for (tokens).
      type: int
    layers:
      description: Transformer blocks.
      type: int
    heads:
      description: Attention heads.
      type: int
    kv_heads:
      description: Key/value heads (grouped-query attention).
      type: int
    key_length:
      description: The size of one key head.
      type: int
    value_length:
      description: The size of one value head.
      type: int
    rope_scaling:
      description: The rope scaling type the model states (e.g. C(yarn)), or null.
      type: str
    rope_scaling_factor:
      description: Its factor, or null.
      type: float
    rope_original_context:
      description: The context before scaling, when the model states it.
      type: int
    weights_bytes:
      description: The GGUF file's size, or the sum of the snapshot's safetensors files.
      type: int
    kv_bytes_per_token:
      description: Bytes of KV cache per token of context (f16 for GGUF, the dtype for a snapshot).
      type: int
  sample:
    /models/SmolLM2-135M-Instruct.Q4_1.gguf:
      format: gguf
      architecture: llama
      context_length: 8192
      layers: 30
      heads: 9
      kv_heads: 3
      key_length: 64
      value_length: 64
      weights_bytes: 98362432
      kv_bytes_per_token: 23040
files:
  description: The state of each path on disk, by path, whether or not its model could be read.
  returned: always
  type: dict
  version_added: 0.1.0
  contains:
    exists:
      description: Whether the path exists.
      type: bool
    isreg:
      description: Whether it is a regular file (a GGUF) rather than a directory (a snapshot).
      type: bool
    size:
      description: Its size in bytes (of the directory entry, for a directory); null when missing.
      type: int
    mtime:
      description: Its modification time (seconds since the epoch); null when missing.
      type: float
    inode:
      description: Its inode number (a download that puts a new file in place gives a new one); null when missing.
      type: int
  sample:
    /models/SmolLM2-135M-Instruct.Q4_1.gguf:
      exists: true
      isreg: true
      size: 98362432
      mtime: 1764806400.0
      inode: 1048577
    /models/Qwen2.5-14B-Instruct:
      exists: false
      isreg: false
      size: null
      mtime: null
      inode: null
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.strix.opencode.plugins.module_utils.model_facts import ModelFactsError, model_facts


def file_state(path):
    """What the disk says of path: whether it exists, and its size, modification time and inode."""
    try:
        info = os.stat(path)
    except OSError:
        return {"exists": False, "isreg": False, "size": None, "mtime": None, "inode": None}
    return {"exists": True, "isreg": stat.S_ISREG(info.st_mode), "size": info.st_size, "mtime": info.st_mtime,
            "inode": info.st_ino}


def main():
    module = AnsibleModule(
        argument_spec=dict(paths=dict(type="list", elements="path", required=True),
                           on_error=dict(type="str", choices=["fail", "report"], default="fail"),
                           skip_missing=dict(type="bool", default=False)),
        supports_check_mode=True,
    )
    models = {}
    files = {}
    for path in module.params["paths"]:
        files[path] = file_state(path)
        if module.params["skip_missing"] and not files[path]["exists"]:
            continue
        try:
            models[path] = model_facts(path)
        except (ModelFactsError, IOError, OSError) as error:
            if module.params["on_error"] == "fail":
                module.fail_json(msg="model_facts: %s" % error, models=models, files=files)
            models[path] = {"error": str(error)}
    module.exit_json(changed=False, models=models, files=files)


if __name__ == "__main__":
    main()
