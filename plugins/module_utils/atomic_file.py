# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a file whole or not at all: a temporary file in the same directory, then a rename over the old one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile

from ansible.module_utils.common.text.converters import to_bytes


def write_atomically(module, path, text):
    """Write text to path. An existing file is replaced through AnsibleModule.atomic_move, which gives the new
    file the old one's owner, mode and context; a new file takes its name as the temporary file was made, readable
    by its owner alone (atomic_move would open it to the umask's mode until the caller sets the one asked for)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(to_bytes(text, errors="surrogate_or_strict"))
        if os.path.exists(path):
            module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
        else:
            os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
