#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: api_key
short_description: Keep the tiers' API key in root-only files on the box
version_added: 0.1.0
description:
  - Keeps one API key in O(path) (the key alone, for clients such as health.yml, bench.yml and OpenCode's
    C({file:...})) and, when O(env_file) is given, in an environment file for the servers (C(NAME=key) for each
    of O(env_names)), which Docker passes to the containers, so the key is never on a command line.
  - Without O(key), a key already in O(path) is kept and a missing or empty one is generated (43 URL-safe
    characters, 256 bits from the operating system's random source). With O(key), that key is written.
  - Both files are root-only (C(0600), their directory C(0700) when the module creates it), written to a
    temporary file and renamed, so a final path never holds half a key.
  - The key appears in no result, diff or error message.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  path:
    description: The file holding the key alone.
    type: path
    required: true
  env_file:
    description: The environment file for the servers. Omit it for none.
    type: path
  env_names:
    description: The variables the environment file sets to the key.
    type: list
    elements: str
    default: [LLAMA_API_KEY, VLLM_API_KEY]
  key:
    description:
      - The key to keep (from a vault). Omit it to keep the key in O(path), or generate one.
      - At least 16 printable characters, without spaces or quotes.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would be written; writes nothing.
  diff_mode:
    support: full
    description: Shows which files would be written and why, never the key.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
"""

EXAMPLES = r"""
- name: Generate the key on the box (or keep the one there)
  strix.opencode.api_key:
    path: /etc/strix-opencode/api-key
    env_file: /etc/strix-opencode/api-key.env

- name: Use a key from the vault
  strix.opencode.api_key:
    path: /etc/strix-opencode/api-key
    env_file: /etc/strix-opencode/api-key.env
    key: "{{ vault_strix_api_key }}"
"""

RETURN = r"""
path:
  description: The file holding the key.
  returned: always
  type: str
  sample: /etc/strix-opencode/api-key
env_file:
  description: The environment file, or null.
  returned: always
  type: str
  sample: /etc/strix-opencode/api-key.env
generated:
  description: Whether this run made a new key.
  returned: always
  type: bool
  sample: false
written:
  description: The files this run wrote (or would write, in check mode), each with why.
  returned: always
  type: list
  elements: str
  sample: ["/etc/strix-opencode/api-key: generated (there was none)"]
"""

import os
import re
import secrets
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

KEY_PATTERN = re.compile(r"^[!#-&(-~]{16,}$")


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def root_only(path):
    """Whether path is owned by this process's user and readable by it alone."""
    info = os.stat(path)
    return info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077 == 0


def write(path, content):
    """Write content to path atomically, 0600 from the first byte."""
    directory = os.path.dirname(path) or "."
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except Exception:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def plan(path, env_file, env_names, given):
    """What to write: ([(path, content, why)], key, generated)."""
    current = read(path)
    current_key = (current or "").strip()
    generated = False
    if given is not None:
        key = given
    elif KEY_PATTERN.match(current_key):
        key = current_key
    else:
        key = secrets.token_urlsafe(32)
        generated = True
    writes = []
    if current is None:
        writes.append((path, key + "\n", "generated (there was none)" if generated else "written (there was none)"))
    elif current != key + "\n":
        why = ("generated (the file held no usable key)" if generated else "replaced by the key given")
        writes.append((path, key + "\n", why))
    elif not root_only(path):
        writes.append((path, key + "\n", "made root-only (it was readable by others)"))
    if env_file:
        content = "".join("%s=%s\n" % (name, key) for name in env_names)
        existing = read(env_file)
        if existing is None:
            writes.append((env_file, content, "written (there was none)"))
        elif existing != content:
            writes.append((env_file, content, "rewritten (it did not hold the key)"))
        elif not root_only(env_file):
            writes.append((env_file, content, "made root-only (it was readable by others)"))
    return writes, generated


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            env_file=dict(type="path"),
            env_names=dict(type="list", elements="str", default=["LLAMA_API_KEY", "VLLM_API_KEY"]),
            key=dict(type="str", no_log=True),
        ),
        supports_check_mode=True,
    )
    path, env_file, given = module.params["path"], module.params["env_file"], module.params["key"]
    result = dict(changed=False, path=path, env_file=env_file, generated=False, written=[])
    if given is not None and not KEY_PATTERN.match(given):
        module.fail_json(msg="key must be at least 16 printable characters without spaces or quotes (the value "
                             "given is not shown)", **result)
    for name in module.params["env_names"]:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            module.fail_json(msg="env_names: %r is not an environment variable name" % name, **result)
    for target in [path] + ([env_file] if env_file else []):
        if os.path.isdir(target):
            module.fail_json(msg="%s is a directory, not a file for the key" % target, **result)

    try:
        writes, generated = plan(path, env_file, module.params["env_names"], given)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s: %s" % (path, exc.strerror or exc), **result)
    result.update(changed=bool(writes), generated=generated and bool(writes),
                  written=["%s: %s" % (target, why) for target, _content, why in writes])
    if module._diff:
        result["diff"] = {"before": "".join("%s: as it was\n" % target for target, _c, _w in writes),
                          "after": "".join("%s: %s\n" % (target, why) for target, _c, why in writes)}
    if writes and not module.check_mode:
        for target, content, _why in writes:
            directory = os.path.dirname(target)
            try:
                if directory and not os.path.isdir(directory):
                    os.makedirs(directory, 0o700)
                write(target, content)
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write %s: %s" % (target, exc.strerror or exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
