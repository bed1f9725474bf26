# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The attributes of the modules that write one file (jsonc_value, file_content).
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the file's text before and after, and any change of owner, group or mode.
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX hosts.
"""
