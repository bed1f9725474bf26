"""The apt_packages action: dpkg-query first (in check mode too), ansible.builtin.apt only for what is missing."""
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible_collections.strix.opencode.plugins.action import apt_packages


def action(args, dpkg_stdout, dpkg_rc=0, check_mode=False, apt_result=None):
    """The action with the modules it runs recorded: (action, calls); calls holds (module, args, check mode)."""
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    plugin = apt_packages.ActionModule(task, MagicMock(), PlayContext(), MagicMock(), MagicMock(), MagicMock())
    calls = []

    def execute(module_name, module_args, task_vars):
        calls.append((module_name, module_args, plugin._task.check_mode))
        if module_name == "ansible.legacy.command":
            return {"rc": dpkg_rc, "stdout": dpkg_stdout, "stderr": ""}
        return dict(apt_result or {"changed": True, "cache_updated": True})
    plugin._execute_module = execute
    return plugin, calls


def test_all_installed_runs_only_the_probe():
    plugin, calls = action({"name": ["nodejs", "npm"]}, "nodejs installed\nnpm installed\n")
    result = plugin.run(task_vars={})
    assert not result["changed"] and result["missing"] == []
    assert [call[0] for call in calls] == ["ansible.legacy.command"]
    assert calls[0][1]["argv"][:3] == ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status}\\n"]
    assert calls[0][1]["argv"][3:] == ["nodejs", "npm"]


def test_missing_and_half_removed_packages_are_installed_with_a_refresh():
    # dpkg-query exits 1 for a package it has never seen; "config-files" is a removed package
    plugin, calls = action({"name": ["nodejs", "npm", "ripgrep"], "cache_valid_time": 60},
                           "nodejs installed\nnpm config-files\n", dpkg_rc=1)
    result = plugin.run(task_vars={})
    assert result["changed"] and result["missing"] == ["npm", "ripgrep"] and result["cache_updated"]
    module, args = calls[1][:2]
    assert module == "ansible.legacy.apt"
    assert args == {"name": ["npm", "ripgrep"], "state": "present", "update_cache": True, "cache_valid_time": 60}


def test_versions_and_architectures_are_probed_by_name_and_installed_as_given():
    plugin, calls = action({"name": ["nginx=1.24*", "libc6:amd64"], "policy_rc_d": "101"}, "libc6 installed\n")
    result = plugin.run(task_vars={})
    assert calls[0][1]["argv"][3:] == ["libc6", "nginx"]
    assert result["missing"] == ["nginx=1.24*"]
    assert calls[1][1]["name"] == ["nginx=1.24*"] and calls[1][1]["policy_rc_d"] == 101
    assert "install_recommends" not in calls[1][1]  # the host's apt configuration decides


def test_recommends_can_be_left_out():
    plugin, calls = action({"name": ["prometheus-node-exporter"], "install_recommends": False}, "", dpkg_rc=1)
    plugin.run(task_vars={})
    assert calls[1][1]["install_recommends"] is False


def test_check_mode_probes_for_real_and_leaves_apt_in_check_mode():
    plugin, calls = action({"name": ["earlyoom"]}, "", dpkg_rc=1, check_mode=True,
                           apt_result={"changed": True})
    result = plugin.run(task_vars={})
    assert result["changed"] and result["missing"] == ["earlyoom"]
    assert [(call[0], call[2]) for call in calls] == [
        ("ansible.legacy.command", False), ("ansible.legacy.apt", True)]
    assert plugin._task.check_mode


def test_a_failed_install_is_reported_as_apt_reported_it():
    plugin = action({"name": ["nosuchpkg"]}, "", dpkg_rc=1,
                    apt_result={"failed": True, "msg": "No package matching 'nosuchpkg' is available"})[0]
    result = plugin.run(task_vars={})
    assert result["failed"] and "nosuchpkg" in result["msg"] and result["missing"] == ["nosuchpkg"]


@pytest.mark.parametrize("args, message", [
    ({"name": []}, "name must be a non-empty list"),
    ({"name": ["a b"]}, "name must be a non-empty list"),
    ({"name": ["nginx"], "cache_valid_time": "soon"}, "cache_valid_time must be a number"),
])
def test_bad_arguments_are_refused_before_anything_runs(args, message):
    plugin, calls = action(args, "")
    with pytest.raises(AnsibleActionFail, match=message):
        plugin.run(task_vars={})
    assert calls == []


def test_a_host_without_dpkg_is_named():
    plugin, calls = action({"name": ["nginx"]}, "", dpkg_rc=None)
    with pytest.raises(AnsibleActionFail, match="needs dpkg-query"):
        plugin.run(task_vars={})
    assert len(calls) == 1
