# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tests' own record of when each task started, appended to the file STRIX_TASK_TIMES names (nothing on stdout,
so the runs that parse the JSON callback's output are unaffected). tests/support/task_times.py sums it up."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_times
type: aggregate
short_description: Record each task's start time in a file
description:
  - Appends one line per task start and per playbook end to the file named by E(STRIX_TASK_TIMES), when set.
requirements:
  - enabled in the tests through E(ANSIBLE_CALLBACKS_ENABLED)
"""

import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._path = os.environ.get("STRIX_TASK_TIMES")
        self._playbook = ""

    def _write(self, what):
        if self._path:
            with open(self._path, "a") as handle:
                handle.write("%.3f\t%d\t%s\t%s\n" % (time.time(), os.getpid(), self._playbook,
                                                     what.replace("\t", " ").replace("\n", " ")))

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)
        self._write("PLAYBOOK START")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write(task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._write(task.get_name())

    def v2_playbook_on_stats(self, stats):
        self._write("PLAYBOOK END")
