"""The models the role downloaded from the Hub stand-in: complete, verified, recorded, nothing half-written."""
import json
import os
import sys
from pathlib import Path

# the installed collection (make collection), for the figure the collection itself holds
sys.path.insert(0, str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / ".cache" / "collections"))
from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import (  # noqa: E402  pylint: disable=wrong-import-position
    SMOLLM2_GGUF_SHA256 as SHA256)

GGUF = "/srv/models/SmolLM2-135M-Instruct.Q4_1.gguf"
REPO = "/srv/models/strix-test/tiny-weights"


def test_the_gguf_is_complete_and_verified(host):
    f = host.file(GGUF)
    assert f.size == 98362432 and f.sha256sum == SHA256 and f.mode == 0o644


def test_the_sidecar_records_it(host):
    record = json.loads(host.file("/srv/models/.SmolLM2-135M-Instruct.Q4_1.gguf.hf.json").content_string)
    assert record["sha256"] == SHA256 and record["size"] == 98362432
    assert record["repo_id"] == "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"


def test_the_repository_has_the_allowed_files_only(host):
    names = sorted(n for n in host.file(REPO).listdir() if not n.startswith("."))
    assert names == ["config.json", "model.safetensors", "tokenizer.json"]
    assert host.file(REPO + "/model.safetensors").size == len("weights-") * 300000


def test_no_partial_file_is_left(host):
    assert host.run("find /srv/models -name '*.part*'").stdout == ""
