# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""report(lines): a table or a sentence as one block of text for ansible.builtin.debug's msg, which the default
callback (callback_result_format = yaml, the collection's ansible.cfg) prints as a literal block: one line per
line, as wide as it is, with no YAML quotes. A list of lines, or a string, becomes lines without trailing spaces
and ends with a newline (a string without a newline would be folded at 80 columns)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types


def report(lines):
    if isinstance(lines, string_types):
        lines = lines.split("\n")
    elif not isinstance(lines, (list, tuple)):
        raise AnsibleFilterError("report: expected a list of lines or a string, got %s" % type(lines).__name__)
    text = "\n".join(str(line).rstrip() for line in lines).strip("\n")
    return text + "\n"


class FilterModule(object):
    def filters(self):
        return {"report": report}
