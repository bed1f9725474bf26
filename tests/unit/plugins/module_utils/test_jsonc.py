"""The JSONC editor changes exactly one value and nothing else, and refuses what it cannot read."""
import pytest

from ansible_collections.strix.opencode.plugins.module_utils.jsonc import JsoncError, json_equal, loads
from ansible_collections.strix.opencode.plugins.module_utils.jsonc_edit import remove_value, set_value
from ..jsonc_oracle import comments, load

DOC = """{
  // OpenCode configuration
  "$schema": "https://opencode.ai/config.json",
  "model": "local_orch/orch", // the primary model
  "provider": {
    /* the orchestrator tier */
    "local_orch": {
      "options": { "baseURL": "http://127.0.0.1:8001/v1" },
      "models": {
        "orch": { "id": "Qwen/Qwen2.5-14B-Instruct", "limit": { "context": 65536 } },
      },
    },
  },
  "agent": {
    "primary": {
      "mode": "primary",
      "model": "local_orch/orch"
    }
  }
}
"""


def test_set_changes_only_the_value_bytes():
    edit = set_value(DOC, ["agent", "primary", "model"], "cloud_planner/gpt-5")
    assert edit.found and edit.before == "local_orch/orch"
    assert edit.text == DOC.replace('"model": "local_orch/orch"\n', '"model": "cloud_planner/gpt-5"\n')


def test_set_back_restores_the_original_bytes():
    there = set_value(DOC, ["agent", "primary", "model"], "cloud_planner/gpt-5").text
    assert set_value(there, ["agent", "primary", "model"], "local_orch/orch").text == DOC


def test_equal_value_is_no_change_even_when_written_differently():
    doc = '{"limit": {"context": 65536.0, "output": 1}}'
    edit = set_value(doc, ["limit"], {"output": 1, "context": 65536})
    assert edit.found and edit.text is doc


def test_true_is_not_one():
    assert not json_equal(True, 1)
    new = set_value('{"tool_call": 1}', ["tool_call"], True).text
    assert new == '{"tool_call": true}'


def test_value_in_a_line_with_a_trailing_comment_keeps_the_comment():
    new = set_value(DOC, ["model"], "local_coder/coder").text
    assert '"model": "local_coder/coder", // the primary model\n' in new
    assert comments(new) == comments(DOC)


def test_object_value_is_indented_like_its_line():
    new = set_value(DOC, ["agent", "primary"], {"mode": "primary", "model": "x/y"}).text
    assert '  "agent": {\n    "primary": {\n      "mode": "primary",\n      "model": "x/y"\n    }\n  }' in new


def test_missing_key_is_added_after_the_last_member_in_its_style():
    edit = set_value(DOC, ["agent", "primary", "description"], "Orchestrator")
    assert not edit.found and edit.before is None
    new = edit.text
    assert '      "model": "local_orch/orch",\n      "description": "Orchestrator"\n    }' in new
    assert load(new)["agent"]["primary"]["description"] == "Orchestrator"


def test_missing_key_after_a_trailing_comma_gets_one_too():
    new = set_value(DOC, ["provider", "local_orch", "models", "fast"], {"id": "a"}).text
    assert '},\n        "fast": {\n          "id": "a"\n        },\n      },' in new
    assert load(new)["provider"]["local_orch"]["models"]["fast"] == {"id": "a"}


def test_missing_key_after_a_commented_line_goes_below_the_comment():
    doc = '{\n  "a": 1, // one\n  "b": 2 // two\n}\n'
    new = set_value(doc, ["c"], 3).text
    assert new == '{\n  "a": 1, // one\n  "b": 2, // two\n  "c": 3\n}\n'


def test_missing_objects_on_the_way_are_created():
    new = set_value(DOC, ["agent", "coder", "model"], "local_coder/coder").text
    assert load(new)["agent"]["coder"] == {"model": "local_coder/coder"}


def test_key_added_to_an_empty_object_and_a_one_line_object():
    assert set_value("{}", ["a"], 1).text == '{\n  "a": 1\n}'
    assert set_value('{"x": {"y": 1}}', ["x", "z"], 2).text == '{"x": {"y": 1, "z": 2}}'


def test_missing_key_fails_when_creation_is_off():
    with pytest.raises(JsoncError, match=r'key agent.primary.temperature not found'):
        set_value(DOC, ["agent", "primary", "temperature"], 0.2, create=False)


def test_remove_a_middle_member_takes_its_whole_line():
    edit = remove_value(DOC, ["agent", "primary", "mode"])
    assert edit.found and edit.before == "primary"
    new = edit.text
    assert '    "primary": {\n      "model": "local_orch/orch"\n    }' in new


def test_remove_the_last_member_drops_the_comma_before_it():
    doc = '{\n  "a": 1,\n  "b": 2\n}\n'
    assert remove_value(doc, ["b"]).text == '{\n  "a": 1\n}\n'


def test_remove_then_add_back_restores_an_inline_object_byte_for_byte():
    doc = '{"a": {"model": "x", "maxTokens": 32768}, "b": 1}'
    removed = remove_value(doc, ["a", "maxTokens"]).text
    assert removed == '{"a": {"model": "x"}, "b": 1}'
    assert set_value(removed, ["a", "maxTokens"], 32768).text == doc


def test_remove_keeps_comments_and_is_a_no_op_when_absent():
    new = remove_value(DOC, ["provider", "local_orch", "options"]).text
    assert comments(new) == comments(DOC)
    assert "options" not in load(new)["provider"]["local_orch"]
    again = remove_value(new, ["provider", "local_orch", "options"])
    assert again.text is new and not again.found


@pytest.mark.parametrize("doc,where,reason", [
    ('{\n  "a": 1 /* never closed\n}', (2, 10), "unterminated block comment"),
    ('{\n  "a": "never closed\n}', (2, 8), "unterminated string"),
    ('{\n  "a": 1,\n  "a": 2\n}', (3, 3), 'duplicate key "a" in the document'),
    ('{"a": [1, 2]}', (1, 7), "a is not an object"),
    ('{"a": 1 "b": 2}', (1, 9), "expected ',' or '}'"),
    ('{"a": 1', (1, 1), "unterminated object"),
    ('', (1, 1), "the document is empty"),
    ('{"a": 1} x', (1, 10), "unexpected content after the document"),
])
def test_malformed_documents_fail_with_line_and_column(doc, where, reason):
    with pytest.raises(JsoncError) as info:
        set_value(doc, ["a", "b"], 1)
    assert (info.value.line, info.value.column) == where
    assert info.value.reason == reason


def test_duplicate_keys_off_the_path_are_tolerated():
    assert loads('{"x": 1, "x": 2, "a": 3}') == {"x": 2, "a": 3}
    assert set_value('{"x": 1, "x": 2, "a": 3}', ["a"], 4).text == '{"x": 1, "x": 2, "a": 4}'
