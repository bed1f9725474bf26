"""An independent reader of JSONC for the tests: strips comments and trailing commas, then json.loads.

Written separately from module_utils/jsonc.py on purpose, so the tests do not check the editor
against itself.
"""
import json


def strip(text):
    """Return (plain JSON text, comments in order)."""
    out, comments, i = [], [], 0
    while i < len(text):
        if text[i] == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = len(text) if j < 0 else j
            comments.append(text[i:j])
            i = j
        elif text.startswith("/*", i):
            j = text.index("*/", i + 2) + 2
            comments.append(text[i:j])
            out.append(" ")
            i = j
        else:
            out.append(text[i])
            i += 1
    return _drop_trailing_commas("".join(out)), comments


def _drop_trailing_commas(text):
    out, i, in_string = [], 0, False
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\":
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char == ",":
            rest = text[i + 1:].lstrip()
            if not rest.startswith(("}", "]")):
                out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def load(text):
    return json.loads(strip(text)[0])


def comments(text):
    return strip(text)[1]


def canonical(value):
    return json.dumps(value, sort_keys=True)
