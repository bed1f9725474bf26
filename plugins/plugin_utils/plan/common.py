# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of every part of the plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

MIB = 1024 * 1024


class PlanError(ValueError):
    """Input the plan cannot read at all (not a problem to report, a call to fix)."""


class Problems(list):
    """Every problem of the description, as sentences naming the variable."""

    def add(self, text, *args):
        self.append(text % args if args else text)


def is_int(value, low=None):
    return isinstance(value, int) and not isinstance(value, bool) and (low is None or value >= low)


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def plain(value):
    """A copy of value made of plain dicts and lists. Ansible hands filters lazy containers, whose deep copies
    template every leaf again: the plan copies its input once, at the door."""
    if isinstance(value, Mapping):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def merge(base, over):
    """base with over laid on top, dictionaries merged key by key (lists, scalars and a model replaced)."""
    out = plain(base)
    for key, value in (over or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "model":
            out[key] = merge(out[key], value)
        else:
            out[key] = plain(value)
    return out


def loopback(bind):
    """The address the box itself reaches a server bound to bind on."""
    return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind


def is_loopback(bind):
    """Whether an address is reachable from the box alone (127.0.0.0/8, ::1)."""
    return str(bind).startswith("127.") or str(bind) in ("::1", "localhost")


def api_key_files(description):
    """The key's files on the box ({key, env}), or None when the tiers take no key."""
    if (description.get("api_key") or "none") not in ("generate", "given"):
        return None
    path = str(description.get("api_key_file"))
    return {"key": path, "env": path + ".env"}


def gib(mb):
    return "%.1f GiB" % (mb / 1024.0)


def kv_mb(context, sequences, bytes_per_token, spare_tokens=0):
    """A KV cache in MiB, rounded up: (context x sequences + spare tokens) x the model's bytes per token."""
    return -(-(context * sequences + spare_tokens) * int(bytes_per_token) // MIB) if bytes_per_token else None
