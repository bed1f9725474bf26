# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""strix.opencode.apt_packages: dpkg-query, then ansible.builtin.apt for what is missing (see the module's docs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

PROBE_FORMAT = "${Package} ${db:Status-Status}\\n"


def bare_name(spec):
    """The package name of an apt spec: 'nginx=1.24*' -> 'nginx', 'libc6:amd64' -> 'libc6'."""
    return spec.split("=", 1)[0].split(":", 1)[0]


def missing_packages(names, dpkg_stdout):
    """The names whose package dpkg-query did not list as installed."""
    installed = set()
    for line in dpkg_stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == "installed":
            installed.add(fields[0])
    return [name for name in names if bare_name(name) not in installed]


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("name", "cache_valid_time", "policy_rc_d", "install_recommends"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        names = self._task.args.get("name")
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",")]
        if not isinstance(names, list) or not names or not all(
                isinstance(n, str) and n and not any(c.isspace() for c in n) for n in names):
            raise AnsibleActionFail("name must be a non-empty list of package names, got %r" % (names,))
        try:
            cache_valid_time = int(self._task.args.get("cache_valid_time", 3600))
        except (TypeError, ValueError):
            raise AnsibleActionFail("cache_valid_time must be a number of seconds, got %r"
                                    % (self._task.args.get("cache_valid_time"),))

        # The probe only reads the package database: it runs in check mode too.
        check_mode = self._task.check_mode
        self._task.check_mode = False
        try:
            probe = self._execute_module(
                module_name="ansible.legacy.command",
                module_args={"argv": ["dpkg-query", "--show", "--showformat=" + PROBE_FORMAT]
                             + sorted(set(bare_name(n) for n in names))},
                task_vars=task_vars)
        finally:
            self._task.check_mode = check_mode
        # dpkg-query exits 1 when a package is unknown, and lists the others
        if probe.get("rc") not in (0, 1):
            raise AnsibleActionFail("apt_packages needs dpkg-query (a Debian or Ubuntu host): %s"
                                    % (probe.get("msg") or probe.get("stderr") or "rc %s" % probe.get("rc")))
        missing = missing_packages(names, probe.get("stdout", ""))
        result.update(changed=False, missing=missing)
        if not missing:
            result["msg"] = "installed: %s" % ", ".join(names)
            return result

        apt_args = {"name": missing, "state": "present", "update_cache": True,
                    "cache_valid_time": cache_valid_time}
        if self._task.args.get("install_recommends") is not None:
            apt_args["install_recommends"] = self._task.args["install_recommends"]
        if self._task.args.get("policy_rc_d") is not None:
            apt_args["policy_rc_d"] = int(self._task.args["policy_rc_d"])
        installed = self._execute_module(module_name="ansible.legacy.apt", module_args=apt_args,
                                         task_vars=task_vars)
        result.update(installed)
        result["missing"] = missing
        return result
