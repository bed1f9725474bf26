# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit one value of a JSON-with-comments document in place: set_value replaces exactly the bytes of one value
(or inserts one member), remove_value removes one member; comments, trailing commas, indentation and key order
stay as they were. Every edit is read back before it is returned. Standard library only: this runs on the
managed host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.strix.opencode.plugins.module_utils.jsonc import Edit, JsoncError, json_equal, parse


def _dotted(path):
    return ".".join(path) if path else "the document"


def _find(text, root, path):
    """Walk path; return (member, None) when found, or (object node, depth) where path[depth] is missing."""
    node, member = root, None
    for depth, key in enumerate(path):
        if node.kind != "object":
            raise JsoncError("%s is not an object" % _dotted(path[:depth]), text, node.start)
        matches = [m for m in node.members if m.key == key]
        if len(matches) > 1:
            raise JsoncError("duplicate key %s in %s" % (json.dumps(key), _dotted(path[:depth])),
                             text, matches[1].key_start)
        if not matches:
            return node, depth
        member = matches[0]
        node = member.value
    return member, None


def _line_start(text, offset):
    return text.rfind("\n", 0, offset) + 1


def _indent_of(text, offset):
    start = _line_start(text, offset)
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return text[start:end]


def _indent_unit(text):
    """The document's indentation step: a tab, or the smallest run of leading spaces; 2 if none."""
    widths = []
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            if line.startswith("\t"):
                return "\t"
            widths.append(len(line) - len(stripped))
    return " " * (min(widths) if widths else 2)


def _render(value, indent, unit):
    """JSON text of value for a spot whose line is indented by indent."""
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + indent)


def _end_of_line_after(text, offset):
    """Offset of the newline ending offset's line when only blanks and comments follow; else None."""
    pos = offset
    while pos < len(text):
        if text[pos] in " \t\r":
            pos += 1
        elif text.startswith("//", pos):
            newline = text.find("\n", pos)
            return len(text) if newline < 0 else newline
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0 or "\n" in text[pos:end]:
                return None
            pos = end + 2
        elif text[pos] == "\n":
            return pos
        else:
            return None
    return pos


def _insert(text, obj, key, value, unit):
    """Add "key": value as the last member of obj, in the style of its other members."""
    multiline = "\n" in text[obj.start:obj.end]
    if not obj.members:
        close = obj.end - 1
        outer = _indent_of(text, obj.start)
        member = json.dumps(key) + ": " + _render(value, outer + unit, unit)
        if multiline and not text[_line_start(text, close):close].strip():
            line = _line_start(text, close)
            return text[:line] + outer + unit + member + "\n" + text[line:]
        return text[:close].rstrip(" \t") + "\n" + outer + unit + member + "\n" + outer + text[close:]
    last = obj.members[-1]
    trailing = last.comma is not None
    after = last.comma + 1 if trailing else last.value.end
    eol = _end_of_line_after(text, after) if multiline else None
    if eol is None:
        member = json.dumps(key) + ": " + _render(value, _indent_of(text, last.key_start), unit)
        if trailing:
            return text[:after] + " " + member + "," + text[after:]
        return text[:after] + ", " + member + text[after:]
    indent = _indent_of(text, last.key_start)
    member = json.dumps(key) + ": " + _render(value, indent, unit)
    comma = "" if trailing else ","
    return (text[:after] + comma + text[after:eol] + "\n" + indent + member + ("," if trailing else "")
            + text[eol:])


def _nest(path, value):
    for key in reversed(path):
        value = {key: value}
    return value


def set_value(text, path, value, create=True):
    """Return an Edit with the value at path set to value.

    Only the bytes of the old value change; a missing key (and any missing objects on the way) is
    added when create is true, else JsoncError.
    """
    path = list(path)
    if not path:
        raise JsoncError("the key path is empty", text, 0)
    root = parse(text)
    found, depth = _find(text, root, path)
    if depth is None:
        old = found.value.to_python()
        if json_equal(old, value):
            return Edit(text, True, old)
        node = found.value
        new = text[:node.start] + _render(value, _indent_of(text, node.start), _indent_unit(text)) + text[node.end:]
        return Edit(_checked(new, path, value), True, old)
    if not create:
        raise JsoncError("key %s not found (missing: %s)" % (_dotted(path), json.dumps(path[depth])),
                         text, found.start)
    new = _insert(text, found, path[depth], _nest(path[depth + 1:], value), _indent_unit(text))
    return Edit(_checked(new, path, value), False, None)


def remove_value(text, path):
    """Return an Edit with the member at path removed (nothing changes when it is absent)."""
    path = list(path)
    if not path:
        raise JsoncError("the key path is empty", text, 0)
    root = parse(text)
    found, depth = _find(text, root, path)
    if depth is not None:
        return Edit(text, False, None)
    parent = root if len(path) == 1 else _find(text, root, path[:-1])[0].value
    index = parent.members.index(found)
    start = found.key_start
    end = found.comma + 1 if found.comma is not None else found.value.end
    line = _line_start(text, start)
    eol = _end_of_line_after(text, end)
    last_without_comma = index == len(parent.members) - 1 and found.comma is None and index > 0
    previous_comma = parent.members[index - 1].comma if last_without_comma else None
    if not text[line:start].strip() and eol is not None and not text[end:eol].strip():
        # The member has its line to itself: the line goes, and so does a comma left trailing before it.
        new = text[:line] + text[min(eol + 1, len(text)):]
        if previous_comma is not None:
            new = new[:previous_comma] + new[previous_comma + 1:]
    elif previous_comma is not None and not text[previous_comma + 1:start].strip(" \t"):
        # The last member on a shared line: from the comma before it, so `{"a": 1, "b": 2}` -> `{"a": 1}`.
        new = text[:previous_comma] + text[end:]
    else:
        while end < len(text) and text[end] in " \t" and text[start - 1] in " \t{":
            end += 1
        new = text[:start] + text[end:]
        if previous_comma is not None:
            new = new[:previous_comma] + new[previous_comma + 1:]
    parse(new)
    return Edit(new, True, found.value.to_python())


def _checked(new, path, value):
    """Re-read the edited document: it parses and holds value at path, or the edit is a bug."""
    member, depth = _find(new, parse(new), path)
    if depth is not None or not json_equal(member.value.to_python(), value):
        raise AssertionError("edit of %s did not produce the value" % _dotted(path))
    return new
