"""Reports print as one unwrapped, unquoted block."""
import functools

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible.plugins.callback import _AnsibleCallbackDumper
from ansible_collections.strix.opencode.plugins.filter.report import report

LONG = ("reviewer  llamacpp  cpu   8011  smollm2-reviewer                     healthy  239 ms   "
        "strix-opencode-llama-server:latest (sha256:0123456789ab)")


def printed(msg):
    """What the default callback prints for a debug task's msg with callback_result_format = yaml."""
    return yaml.dump({"msg": msg}, allow_unicode=True, default_flow_style=False, indent=4,
                     Dumper=functools.partial(_AnsibleCallbackDumper, lossy=False))


@pytest.mark.parametrize("lines", [["tier      state   ", LONG, "- swappiness warn: 60"], LONG])
def test_a_report_prints_line_for_line_without_wrapping_or_quotes(lines):
    out = printed(report(lines))
    expected = [line.rstrip() for line in ([lines] if isinstance(lines, str) else lines)]
    assert out.splitlines() == ["msg: |"] + ["    " + line for line in expected]


def test_a_plain_list_or_long_line_would_wrap_or_quote():
    # what the filter is for: the same lines printed as they are come out folded and quoted
    assert LONG not in printed([LONG]) and "'- swappiness warn: 60'" in printed(["- swappiness warn: 60"])


def test_anything_else_is_refused_by_name():
    with pytest.raises(AnsibleFilterError, match="report: expected a list of lines or a string, got dict"):
        report({"a": 1})
