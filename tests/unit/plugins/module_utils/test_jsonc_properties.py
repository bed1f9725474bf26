"""Properties of the JSONC editor over generated documents with comments, trailing commas and nesting.

After an edit at a path, the document still reads (by the independent oracle) as the original with
exactly that change, and every comment outside the replaced value is still there, in order.
"""
import copy
import json

from hypothesis import given, settings, strategies as st

from ansible_collections.strix.opencode.plugins.module_utils.jsonc_edit import remove_value, set_value
from ..jsonc_oracle import canonical, comments, load

KEYS = st.text(alphabet="abcxyz_/.-KQ", min_size=1, max_size=6)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def documents(draw):
    """(text, value, comment list, {path: (start, end) of its value}) for a generated object."""
    value = draw(st.dictionaries(KEYS, VALUES, min_size=1, max_size=4))
    parts, notes, spans = [], [], {}
    counter = [0]
    indent_unit = draw(st.sampled_from(["  ", "    ", "\t"]))

    def emit(text):
        parts.append(text)

    def maybe_comment(depth):
        kind = draw(st.sampled_from(["none", "none", "line", "block"]))
        if kind == "none":
            return
        counter[0] += 1
        if kind == "line":
            note = "// note %d" % counter[0]
            emit(" " + note + "\n" + indent_unit * depth)
        else:
            note = "/* note %d */" % counter[0]
            emit(" " + note + " ")
        notes.append(note)

    def offset():
        return sum(len(p) for p in parts)

    def render(node, depth, path):
        start = offset()
        if isinstance(node, dict) and node:
            emit("{")
            items = list(node.items())
            for index, (key, child) in enumerate(items):
                emit("\n" + indent_unit * (depth + 1))
                maybe_comment(depth + 1)
                emit(json.dumps(key) + ": ")
                render(child, depth + 1, path + (key,))
                if index < len(items) - 1 or draw(st.booleans()):
                    emit(",")
                maybe_comment(depth + 1)
            emit("\n" + indent_unit * depth + "}")
        elif isinstance(node, list) and node:
            emit("[")
            for index, child in enumerate(node):
                maybe_comment(depth + 1)
                render(child, depth + 1, path)
                if index < len(node) - 1 or draw(st.booleans()):
                    emit(", ")
            emit("]")
        else:
            emit(json.dumps(node))
        if path:
            spans[path] = (start, offset())

    maybe_comment(0)
    render(value, 0, ())
    emit("\n")
    maybe_comment(0)
    return "".join(parts), value, notes, spans


def object_paths(value, prefix=()):
    """Paths to every member of every object reached through objects only."""
    for key, child in value.items():
        yield prefix + (key,)
        if isinstance(child, dict):
            yield from object_paths(child, prefix + (key,))


def with_value(value, path, new):
    result = copy.deepcopy(value)
    node = result
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = new
    return result


def outside(text, notes, span):
    """The comments of notes that do not lie inside text[span]."""
    inner = comments(text[span[0]:span[1]])
    kept = list(notes)
    for note in inner:
        kept.remove(note)
    return kept


@settings(max_examples=300, deadline=None)
@given(documents(), st.data(), VALUES)
def test_setting_an_existing_value_changes_only_that_value(doc, data, new):
    text, value, notes, spans = doc
    assert load(text) == value and comments(text) == notes  # the generator is sound
    path = data.draw(st.sampled_from(sorted(object_paths(value))))

    edit = set_value(text, path, new)
    edited = edit.text

    assert edit.found and canonical(edit.before) == canonical(value_at(value, path))
    if edited is text:  # the old value already equals the new one as JSON: nothing at all changes
        assert edit.before == new
        return
    assert canonical(load(edited)) == canonical(with_value(value, path, new))
    assert comments(edited) == outside(text, notes, spans[path])
    start, end = spans[path]
    tail = len(text) - end
    assert edited[:start] == text[:start] and edited[len(edited) - tail:] == text[end:]


@settings(max_examples=300, deadline=None)
@given(documents(), st.data(), VALUES, KEYS)
def test_adding_a_missing_key_keeps_everything_else(doc, data, new, key):
    text, value, notes = doc[:3]
    parents = [()] + [p for p in object_paths(value) if isinstance(value_at(value, p), dict)]
    parent = data.draw(st.sampled_from(parents))
    existing = value_at(value, parent) if parent else value
    if key in existing:
        key = key + "_new"
        if key in existing:
            return
    path = parent + (key,)

    edit = set_value(text, path, new)
    edited = edit.text

    assert not edit.found
    assert canonical(load(edited)) == canonical(with_value(value, path, new))
    assert comments(edited) == notes


@settings(max_examples=300, deadline=None)
@given(documents(), st.data())
def test_removing_a_member_keeps_everything_else(doc, data):
    text, value, notes, spans = doc
    path = data.draw(st.sampled_from(sorted(object_paths(value))))
    expected = copy.deepcopy(value)
    node = expected
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]

    edit = remove_value(text, path)
    edited = edit.text

    assert edit.found
    assert canonical(load(edited)) == canonical(expected)
    assert comments(edited) == outside(text, notes, spans[path])


def value_at(value, path):
    for key in path:
        value = value[key]
    return value
