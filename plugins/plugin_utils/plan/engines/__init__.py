# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engines a tier can run. Adding an engine is one module here, with:

NAME                        the value of strix_tiers.<tier>.engine
KEYS                        its own settings (strix_tiers.<tier>.<engine>.<key>)
BACKENDS                    the GPU backends it can use (none: the image decides)
default_backend(device)     the backend a tier gets when it names none
served_name(model)          the name a tier answers to when strix_tiers gives none
check_stack(d, problems)    its own checks of the stack-wide settings
check(where, s, d, problems)        its own checks of one tier's settings
model_problem(where, model)         what is wrong with a model of the wrong kind for it, or None
context_override(s)         a trained context its command line overrides, or None
image_key(s)                which strix_images entry the tier runs
container(s, d, part)       entrypoint, command, volumes, cache_dirs, env, devices, healthcheck
kv_spare_tokens(s)          tokens of KV cache it needs beyond context x sequences
ledger_row(s, part)         the memory row's fields (mb, what, and any of its own)
check_together(tiers, d, problems, ledger)  checks across its tiers, once the ledger is known
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.engines import llamacpp, vllm

ENGINES = dict((engine.NAME, engine) for engine in (vllm, llamacpp))
