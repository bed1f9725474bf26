# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan of the stack as filters: a thin adapter over plugins/plugin_utils/plan (the package that decides).

strix_models(description)          the model downloads the description needs (for the models check)
strix_plan(description, facts)     the plan: tiers in start order with their exact containers, the downloads, the
                                   memory ledger, the OpenCode layout, and every problem
strix_model_facts(models, files, ...) the box's and the Hub's answers about the models, as the plan's facts
strix_plan_text(plan)              the plan as lines of text
meminfo_mb(text)                   RAM and swap from /proc/meminfo
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.plugin_utils.plan import build, ledger, models, render
from ansible_collections.strix.opencode.plugins.plugin_utils.plan.common import PlanError


def _adapt(function):
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PlanError as error:
            raise AnsibleFilterError(str(error))
    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    return call


strix_plan = _adapt(build.plan)
strix_models = _adapt(build.models)
strix_model_facts = _adapt(models.model_checks)
strix_plan_text = _adapt(render.plan_text)
meminfo_mb = _adapt(ledger.meminfo_mb)


class FilterModule(object):
    def filters(self):
        return {"strix_plan": strix_plan, "strix_models": strix_models, "strix_model_facts": strix_model_facts,
                "strix_plan_text": strix_plan_text, "meminfo_mb": meminfo_mb}
