# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the stack: the inventory's description of the tiers plus the facts of a box, in; everything the
roles and the reports need, out. Plain Python, no Ansible: plugins/filter/strix_plan.py adapts it.

common        the small helpers every part uses (problems, numbers, addresses, the key's files)
description   the stack-wide settings, which tiers run, each tier's settings and their common checks
models        where a tier's model comes from and lives, and what it says of itself
engines/      one module per engine: its settings, checks, image, container and ledger row
containers    the parts of a tier's container that do not depend on its engine (name, labels, key, URL)
ledger        memory rows per tier, totals against RAM, swap and GPU memory
render        the plan as text
build         the plan itself, and the list of models a description needs
"""
