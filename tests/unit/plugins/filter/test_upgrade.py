"""upgrade.yml's filters: what a change does to a box, and what puts the box back."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.strix_plan import strix_plan
from ansible_collections.strix.opencode.plugins.filter.upgrade import upgrade_changes, upgrade_rollback

from .test_strix_plan import FACTS, description

PIN = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c"


def record_of(plan, image_ids):
    """What the stack role records for a plan it ran."""
    return dict((t["tier"], {"container": t["container"]["name"], "image": t["container"]["image"],
                             "image_id": image_ids[t["tier"]], "image_key": t["container"]["image_key"],
                             "engine": t["engine"], "model": t["served_name"], "model_path": t["model"]["path"],
                             "model_revision": t["model"].get("revision") or "", "model_sha256": t["model"].get("sha256") or ""})
                for t in plan["tiers"])


def test_no_change_when_the_box_runs_the_plan():
    plan = strix_plan(description(mode="full"), FACTS)
    ids = {"orch": "sha256:a", "coder": "sha256:a", "reviewer": "sha256:b", "utility": "sha256:b"}
    assert upgrade_changes(plan, record_of(plan, ids)) == []


def test_a_new_image_and_a_new_revision_are_the_changes():
    before = strix_plan(description(mode="full"), FACTS)
    record = record_of(before, {"orch": "sha256:a", "coder": "sha256:a", "reviewer": "sha256:b", "utility": "sha256:b"})
    images = dict(description()["images"], vllm="docker.io/kyuz0/vllm@sha256:" + "c" * 64)
    after = strix_plan(description(mode="full", images=images, tiers={"utility": {"llamacpp": {"model": {
        "repo_id": "Qwen/Qwen2.5-3B-Instruct-GGUF", "filename": "qwen2.5-3b-instruct-q4_k_m.gguf", "revision": PIN}}}}),
        FACTS)
    assert after["problems"] == []
    changes = upgrade_changes(after, record)
    assert [(c["tier"], c["what"]) for c in changes] == [("coder", "image"), ("orch", "image"), ("utility", "model")]
    assert changes[-1]["before"].endswith("@main") and changes[-1]["after"].endswith("@" + PIN)
    # a tier the change adds or removes is a change of the tiers
    assert upgrade_changes(strix_plan(description(mode="cpu"), FACTS), record)[:2] == [
        {"tier": "coder", "what": "tier", "before": "runs", "after": "absent"},
        {"tier": "orch", "what": "tier", "before": "runs", "after": "absent"}]


def test_the_rollback_puts_back_each_image_by_id_and_each_model_at_its_revision():
    before = strix_plan(description(mode="full", tiers={"utility": {"llamacpp": {"model": {
        "repo_id": "Qwen/Qwen2.5-3B-Instruct-GGUF", "filename": "qwen2.5-3b-instruct-q4_k_m.gguf", "revision": PIN,
        "sha256": "d" * 64}}}}), FACTS)
    record = record_of(before, {"orch": "sha256:old-vllm", "coder": "sha256:old-vllm", "reviewer": "sha256:old-cpp",
                                "utility": "sha256:old-cpp"})
    inventory_tiers = {"utility": {"context": 16384, "model": {"repo_id": "Qwen/Qwen2.5-3B-Instruct-GGUF",
                                                               "filename": "qwen2.5-3b-instruct-q4_k_m.gguf",
                                                               "revision": "main"}}}
    after = strix_plan(description(mode="full", tiers=inventory_tiers), FACTS)
    assert after["problems"] == []
    back = upgrade_rollback(record, after)
    assert back["images"] == {"vllm": "sha256:old-vllm", "llamacpp": "sha256:old-cpp"}
    assert back["tiers"]["utility"]["llamacpp"]["model"] == {
        "repo_id": "Qwen/Qwen2.5-3B-Instruct-GGUF", "filename": "qwen2.5-3b-instruct-q4_k_m.gguf", "revision": PIN,
        "sha256": "d" * 64}
    assert back["tiers"]["orch"]["vllm"]["model"]["allow_patterns"] == ["*.safetensors", "*.json", "tokenizer*", "*.txt"]
    # laid over the inventory as the plan role lays plan_override: the inventory's other settings stay
    replanned = strix_plan(description(mode="full", tiers=inventory_tiers, tier_overrides=back["tiers"],
                                       images=dict(description()["images"], **back["images"])), FACTS)
    assert replanned["problems"] == []
    assert [t["context"] for t in replanned["tiers"] if t["tier"] == "utility"] == [16384]
    assert upgrade_changes(replanned, record) == []
    assert inventory_tiers["utility"]["model"]["revision"] == "main"  # the inventory's own dict is left alone
    with pytest.raises(AnsibleFilterError, match="record of what it ran before"):
        upgrade_rollback({}, after)
