# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tiers' API key for the modules that talk to them, read from its root-only file on the box, so the key is
never a module argument (and so never in a task's arguments or output)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class KeyError_(Exception):
    """The key file cannot be used; the message names the file, never the key."""


def read_key(path):
    """The key in path (surrounding whitespace removed), or None when path is empty."""
    if not path:
        return None
    try:
        with open(path) as handle:
            key = handle.read().strip()
    except (IOError, OSError) as exc:
        raise KeyError_("cannot read the API key file %s: %s" % (path, getattr(exc, "strerror", None) or exc))
    if not key:
        raise KeyError_("the API key file %s is empty" % path)
    return key


def auth_headers(key):
    """The request headers that carry the key (none without one)."""
    return {"Authorization": "Bearer %s" % key} if key else {}
