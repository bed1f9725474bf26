"""Where the models role puts each tier's model."""
import pytest
import yaml
from pathlib import Path

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.models_plan import models_plan

CATALOG = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles/models/defaults/main.yml").read_text())[
    "models_catalog"]


def test_gguf_files_go_in_the_directory_and_repositories_under_owner_and_name():
    plan = {p["tier"]: p for p in models_plan(["orch", "reviewer"], CATALOG, "/srv/m")}
    assert plan["reviewer"]["kind"] == "file"
    assert plan["reviewer"]["path"] == "/srv/m/Llama-3.3-70B-Instruct-Q4_K_M.gguf"
    assert plan["orch"]["kind"] == "repo" and plan["orch"]["path"] == "/srv/m/Qwen/Qwen2.5-14B-Instruct"
    assert plan["orch"]["allow_patterns"] == ["*.safetensors", "*.json", "tokenizer*", "*.txt"]
    assert plan["orch"]["revision"] == "main"


@pytest.mark.parametrize("entry,message", [
    ({}, "models_catalog.x needs a repo_id"),
    ({"repo_id": "../../etc"}, "models_catalog.x.repo_id must be owner/name"),
    ({"repo_id": "justaname"}, "models_catalog.x.repo_id must be owner/name"),
])
def test_bad_catalog_entries_fail_by_name(entry, message):
    with pytest.raises(AnsibleFilterError, match=message):
        models_plan(["x"], {"x": entry}, "/srv/m")
