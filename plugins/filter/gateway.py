# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway's pool as a filter: a thin adapter over plugins/plugin_utils/gateway.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.plugin_utils.gateway import pool


def gateway_pool(plans, addresses, gateway_address, default_timeout_s=1800):
    """The fleet's tiers behind one gateway, from the boxes' plans (see plugin_utils/gateway.py's pool)."""
    if not isinstance(plans, Mapping) or not isinstance(addresses or {}, Mapping):
        raise AnsibleFilterError("gateway_pool needs the boxes' plans and addresses as dictionaries by box name")
    return pool(dict(plans), dict(addresses or {}), gateway_address, int(default_timeout_s))


class FilterModule(object):
    def filters(self):
        return {"gateway_pool": gateway_pool}
