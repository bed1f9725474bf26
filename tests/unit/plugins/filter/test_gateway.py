"""The gateway's pool from the boxes' plans, the pools upgrade.yml drains a box from, and the fleet's scaling."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.bench import bench_scaling, bench_scaling_table
from ansible_collections.strix.opencode.plugins.filter.gateway import gateway_pool
from ansible_collections.strix.opencode.plugins.filter.metrics import metrics_fleet_table
from ansible_collections.strix.opencode.plugins.filter.upgrade import upgrade_gateway_pools
from ansible_collections.strix.opencode.plugins.plugin_utils.opencode_config import API_KEY_REF

from .test_strix_plan import plan

KEYED = {"bind_address": "0.0.0.0", "api_key": "generate", "api_key_file": "/etc/strix-opencode/api-key"}


def box(**over):
    planned = plan(mode="cpu", **dict(KEYED, **over))
    assert planned["problems"] == []
    return planned


def test_each_tier_pools_the_boxes_that_run_it_with_the_smallest_context_in_the_layout():
    plans = {"b1": box(), "b2": box(tier_enable={"reviewer": False}, tiers={"utility": {"context": 6144}}),
             "b3": box(tiers={"reviewer": {"parallel": 2}})}
    pool = gateway_pool(plans, {"b1": "10.0.0.1"}, "gw.lan")
    assert pool["problems"] == []
    utility, reviewer = pool["tiers"]["utility"], pool["tiers"]["reviewer"]
    assert [(s["name"], s["address"], s["port"]) for s in utility["servers"]] == [
        ("b1", "10.0.0.1", 8012), ("b2", "b2", 8012), ("b3", "b3", 8012)]
    assert utility["port"] == 8012 and utility["parallel"] == 3
    assert [s["name"] for s in reviewer["servers"]] == ["b1", "b3"] and reviewer["parallel"] == 3
    assert [s["parallel"] for s in reviewer["servers"]] == [1, 2]
    # no prompt rate known: the default timeout
    assert utility["timeout_s"] == 1800
    providers = pool["layout"]["providers"]
    assert providers["local_utility"]["options"]["baseURL"] == "http://gw.lan:8012/v1"
    assert providers["local_utility"]["options"]["apiKey"] == API_KEY_REF
    assert providers["local_utility"]["models"]["utility"]["limit"]["context"] == 6144


def test_a_known_prompt_rate_sets_the_timeout_to_the_longest_prefill():
    plans = {"b1": box(tiers={"utility": {"prompt_tps": 100}}), "b2": box(tiers={"utility": {"prompt_tps": 50}})}
    pool = gateway_pool(plans, {}, "gw", 600)
    # twice the 8192-token context at the slower box's 50 tokens/s, and a minute
    assert pool["tiers"]["utility"]["timeout_s"] == int(2 * 8192 / 50.0 + 60)
    assert pool["tiers"]["reviewer"]["timeout_s"] == 600


@pytest.mark.parametrize("plans,problem", [
    ({}, "gateway_boxes is empty"),
    ({"b1": plan(mode="cpu")}, "b1 listens on 127.0.0.1 only (strix_bind_address)"),
    ({"b1": box(), "b2": box(tiers={"utility": {"served_name": "other"}})},
     "tier utility serves other on b2 but qwen2.5-3b-instruct-q4_k_m on b1"),
    ({"b1": box(tiers={"utility": {"port": 8011}}, tier_enable={"reviewer": False}), "b2": box()},
     "tiers reviewer and utility all listen on port 8011 at the gateway"),
])
def test_what_stops_the_gateway_is_named(plans, problem):
    pool = gateway_pool(plans, {}, "gw")
    assert any(problem in p for p in pool["problems"]), pool["problems"]
    assert pool["layout"] == {}


def test_a_bad_address_and_bad_input_are_refused():
    assert "gateway_address must be a host name" in gateway_pool({"b1": box()}, {}, "gw lan")["problems"][0]
    with pytest.raises(AnsibleFilterError, match="dictionaries by box name"):
        gateway_pool([box()], {}, "gw")


def test_upgrade_drains_the_box_from_each_pool_it_is_in():
    records = {"gw1": {"admin_socket": "/run/a.sock", "tiers": {
        "orch": {"servers": [{"name": "b1"}, {"name": "b2"}]}, "reviewer": {"servers": [{"name": "b2"}]}}},
        "gw2": {}}
    assert upgrade_gateway_pools(records, "b1") == [{"gateway": "gw1", "tier": "orch", "socket": "/run/a.sock"}]
    assert [p["tier"] for p in upgrade_gateway_pools(records, "b2")] == ["orch", "reviewer"]
    assert upgrade_gateway_pools({}, "b1") == []


def run(tier, servers, agg):
    return {"item": {"key": tier, "value": {"parallel": sum(p for name, p in servers),
                                            "servers": [{"name": n, "parallel": p} for n, p in servers]}},
            "summary": {"agg_gen_tps": {"median": agg}}}


def test_the_scaling_is_the_fleets_rate_over_one_boxs():
    fleet = [run("utility", [("b1", 1), ("b2", 1), ("b3", 1)], 60.0), {"skipped": True}]
    alone = [run("utility", [("b1", 1)], 24.0)]
    rows = bench_scaling(fleet, alone)
    assert rows == [{"tier": "utility", "boxes": 3, "concurrency": 3, "box": "b1", "box_concurrency": 1,
                     "fleet_agg_gen_tps": 60.0, "box_agg_gen_tps": 24.0, "scaling": 2.5}]
    lines = bench_scaling_table(rows)
    assert lines[0].split()[:2] == ["tier", "boxes"] and lines[1].split()[-1] == "2.50"
    assert bench_scaling(fleet, [])[0]["scaling"] is None


def answer(name, result=None, alerts=None):
    data = {"alerts": alerts or []} if name == "alerts" else {"resultType": "vector", "result": result or []}
    return {"item": {"key": name}, "json": {"status": "success", "data": data}}


def sample(value, **labels):
    return {"metric": labels, "value": [0, str(value)]}


def test_the_fleet_view_shows_each_box_from_prometheus():
    results = [
        answer("tiers", [sample(1, box="b1", tier="utility"), sample(0, box="b2", tier="utility"),
                         sample(1, box="b1", tier="orch")]),
        answer("generated", [sample(2.5, box="b1", tier="utility"), sample(1.5, box="b1", tier="orch")]),
        answer("gpu", [sample(0.5, box="b1")]),
        answer("swap", [sample(2 * 1024 ** 3, box="b1")]),
        answer("kills", [sample(3, box="b2")]),
        answer("pools", [sample(1, proxy="utility", server="b2", state="DOWN"),
                         sample(1, proxy="utility", server="b1", state="UP")]),
        answer("alerts", alerts=[{"state": "firing", "labels": {"alertname": "StrixTierDown", "box": "b2",
                                                                "tier": "utility"}},
                                 {"state": "pending", "labels": {"alertname": "StrixBoxDown", "box": "b3"}}]),
    ]
    lines = metrics_fleet_table(results)
    assert lines[0].split()[:2] == ["box", "tiers"]
    b1, b2 = lines[1], lines[2]
    assert b1.split()[:5] == ["b1", "orch", "up", "utility", "up"] and "4.0" in b1 and "50 %" in b1
    assert "2.0 GiB" in b1 and b1.endswith("in every pool")
    assert "utility DOWN" in b2 and b2.endswith("utility DOWN") and " 3 " in b2
    assert lines[-1] == "alerts firing: StrixTierDown (b2 utility)"


def test_an_unanswered_question_is_named():
    with pytest.raises(AnsibleFilterError, match="did not answer gpu"):
        metrics_fleet_table([{"item": {"key": "gpu"}, "msg": "Status code was 503"}])
