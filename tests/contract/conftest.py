"""Fixtures of the contract tests: the plans they hand to the real programs."""
import pytest

from ansible_collections.strix.opencode.plugins.plugin_utils.plan.description import PRESETS
from plans import plan_of


@pytest.fixture(scope="session")
def preset_plans():
    """Every preset's plan, and two more: the orchestrator at 65536 with YaRN on each engine."""
    result = dict((mode, plan_of(mode=mode)) for mode in sorted(PRESETS))
    result["full+yarn"] = plan_of(mode="full", tiers={"orch": {"context": 65536, "parallel": 1, "rope_scaling": "yarn"}})
    result["hybrid-rocm+yarn"] = plan_of(mode="hybrid-rocm", tiers={"orch": {"context": 65536, "rope_scaling": "yarn"}})
    return result
