# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read JSON with comments (JSONC), keeping where every key and value is.

The parser keeps the offset of every key and value, so an edit (jsonc_edit.py) replaces exactly the bytes of one
value (or inserts or removes one member) and leaves comments, trailing commas, indentation and key
order as they were. Standard library only: this runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from collections import namedtuple

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_WHITESPACE = " \t\r\n"

# The result of an edit: the new text (the old text itself when nothing changed), whether the key
# path was there, and the value it held.
Edit = namedtuple("Edit", ["text", "found", "before"])


class JsoncError(ValueError):
    """A document that cannot be read or edited; says where (1-based line and column)."""

    def __init__(self, message, text, offset):
        self.line = text.count("\n", 0, offset) + 1
        self.column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        self.reason = message
        super(JsoncError, self).__init__("line %d, column %d: %s" % (self.line, self.column, message))


class Node:
    """A parsed value: kind is 'object', 'array' or 'scalar'; text[start:end] is its source."""

    def __init__(self, kind, start, end, members=None, items=None, value=None):
        self.kind = kind
        self.start = start
        self.end = end
        self.members = members or []
        self.items = items or []
        self.value = value

    def to_python(self):
        if self.kind == "object":
            return dict((m.key, m.value.to_python()) for m in self.members)
        if self.kind == "array":
            return [item.to_python() for item in self.items]
        return self.value


class Member:
    """One "key": value pair of an object; comma is the offset of the comma after it, if any."""

    def __init__(self, key, key_start, value, comma):
        self.key = key
        self.key_start = key_start
        self.value = value
        self.comma = comma


class _Parser:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, message, offset=None):
        return JsoncError(message, self.text, self.pos if offset is None else offset)

    def skip(self):
        """Skip whitespace and comments."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in _WHITESPACE:
                self.pos += 1
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos)
                self.pos = len(text) if newline < 0 else newline
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated block comment")
                self.pos = end + 2
            else:
                return

    def expect(self, char, what):
        self.skip()
        if self.pos >= len(self.text) or self.text[self.pos] != char:
            raise self.error("expected %s" % what)
        self.pos += 1

    def document(self):
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("the document is empty")
        node = self.value()
        self.skip()
        if self.pos < len(self.text):
            raise self.error("unexpected content after the document")
        return node

    def value(self):
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of the document")
        char = self.text[self.pos]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char == '"':
            return self.string_node()
        return self.scalar()

    def string_node(self):
        start = self.pos
        value = self.string()
        return Node("scalar", start, self.pos, value=value)

    def string(self):
        start = self.pos
        try:
            value, self.pos = json.decoder.scanstring(self.text, start + 1, True)
        except ValueError as exc:
            reason = getattr(exc, "msg", str(exc))
            if reason.startswith("Unterminated string") or "control character" in reason:
                raise self.error("unterminated string", start)
            raise self.error(reason.lower(), getattr(exc, "pos", start))
        return value

    def scalar(self):
        start = self.pos
        for word, value in _LITERALS.items():
            if self.text.startswith(word, start):
                self.pos = start + len(word)
                return Node("scalar", start, self.pos, value=value)
        match = _NUMBER.match(self.text, start)
        if not match:
            raise self.error("expected a value")
        self.pos = match.end()
        return Node("scalar", start, self.pos, value=json.loads(match.group()))

    def object(self):
        start = self.pos
        self.pos += 1
        members = []
        while True:
            self.skip()
            if self.pos < len(self.text) and self.text[self.pos] == "}":
                self.pos += 1
                return Node("object", start, self.pos, members=members)
            if self.pos >= len(self.text):
                raise self.error("unterminated object", start)
            if self.text[self.pos] != '"':
                raise self.error("expected a string key or '}'")
            key_start = self.pos
            key = self.string()
            self.expect(":", "':' after the key")
            value = self.value()
            self.skip()
            comma = None
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                comma = self.pos
                self.pos += 1
            members.append(Member(key, key_start, value, comma))
            if comma is None:
                self.skip()
                if self.pos >= len(self.text):
                    raise self.error("unterminated object", start)
                if self.text[self.pos] != "}":
                    raise self.error("expected ',' or '}'")

    def array(self):
        start = self.pos
        self.pos += 1
        items = []
        while True:
            self.skip()
            if self.pos < len(self.text) and self.text[self.pos] == "]":
                self.pos += 1
                return Node("array", start, self.pos, items=items)
            if self.pos >= len(self.text):
                raise self.error("unterminated array", start)
            items.append(self.value())
            self.skip()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
            elif self.pos < len(self.text) and self.text[self.pos] != "]":
                raise self.error("expected ',' or ']'")


def parse(text):
    """Parse a JSONC document into a Node tree; raises JsoncError."""
    return _Parser(text).document()


def loads(text):
    """The document as plain Python values."""
    return parse(text).to_python()


def json_equal(a, b):
    """Equality as JSON values: 1 == 1.0, but true is not 1; objects ignore key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
