"""model_facts reads the real SmolLM2 GGUF as llama.cpp's own gguf package does, GGUF files written by that
package, and Hugging Face snapshot directories."""
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import gguf
import numpy
import pytest

from ansible_collections.strix.opencode.plugins.module_utils.model_facts import ModelFactsError, model_facts
from ansible_collections.strix.opencode.plugins.modules import model_facts as module
from ansible_collections.strix.opencode.plugins.plugin_utils.model_catalog import CATALOG

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def smollm2():
    out = subprocess.run([sys.executable, str(ROOT / "tests/support/fetch-smollm2.py")], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def _field(reader, key):
    field = reader.fields[key]
    return field.parts[field.data[0]].tolist()[0]


def test_the_real_smollm2_header_matches_llama_cpps_reader(smollm2):
    facts = model_facts(smollm2)
    reader = gguf.GGUFReader(smollm2)
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    assert facts["architecture"] == arch == "llama"
    assert facts["context_length"] == _field(reader, arch + ".context_length") == 8192
    assert facts["layers"] == _field(reader, arch + ".block_count") == 30
    assert facts["heads"] == _field(reader, arch + ".attention.head_count") == 9
    assert facts["kv_heads"] == _field(reader, arch + ".attention.head_count_kv") == 3
    assert facts["embedding_length"] == _field(reader, arch + ".embedding_length") == 576
    assert facts["file_type"] == _field(reader, "general.file_type")
    assert facts["tensor_count"] == len(reader.tensors)
    assert facts["key_length"] == facts["value_length"] == 576 // 9
    # the figure the demo inventory used to carry by hand: 30 layers x 3 KV heads x (64 + 64) x 2 bytes
    assert facts["kv_bytes_per_token"] == 23040
    assert facts["weights_bytes"] == Path(smollm2).stat().st_size


def test_a_file_written_by_gguf_with_rope_scaling_and_explicit_head_sizes(tmp_path):
    path = str(tmp_path / "m.gguf")
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_context_length(32768)
    writer.add_block_count(48)
    writer.add_embedding_length(5120)
    writer.add_head_count(40)
    writer.add_head_count_kv(8)
    writer.add_key_length(128)
    writer.add_value_length(128)
    writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    writer.add_rope_scaling_factor(4.0)
    writer.add_rope_scaling_orig_ctx_len(32768)
    writer.add_token_list(["tok%d" % i for i in range(5000)])
    writer.add_tensor("t", numpy.zeros((4, 4), dtype="float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    facts = model_facts(path)
    assert (facts["architecture"], facts["context_length"], facts["layers"], facts["kv_heads"]) == ("qwen2", 32768, 48, 8)
    assert (facts["rope_scaling"], facts["rope_scaling_factor"], facts["rope_original_context"]) == ("yarn", 4.0, 32768)
    assert facts["kv_bytes_per_token"] == 48 * 8 * (128 + 128) * 2


def test_broken_files_fail_naming_the_file(tmp_path):
    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(ModelFactsError, match="model.bin is not a GGUF file"):
        model_facts(str(not_gguf))
    old = tmp_path / "old.gguf"
    old.write_bytes(b"GGUF" + struct.pack("<I", 1) + b"\0" * 16)
    with pytest.raises(ModelFactsError, match="GGUF version 1 is not supported"):
        model_facts(str(old))
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + struct.pack("<Q", 40) + b"general.")
    with pytest.raises(ModelFactsError, match="cut.gguf: the GGUF header ends early"):
        model_facts(str(cut))
    with pytest.raises(ModelFactsError, match="does not exist"):
        model_facts(str(tmp_path / "gone.gguf"))


def test_a_hugging_face_snapshot(tmp_path):
    config = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "max_position_embeddings": 32768,
              "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "hidden_size": 5120,
              "torch_dtype": "bfloat16", "rope_scaling": None}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model-00001-of-00002.safetensors").write_bytes(b"\0" * 1000)
    (tmp_path / "model-00002-of-00002.safetensors").write_bytes(b"\0" * 24)
    facts = model_facts(str(tmp_path))
    assert facts["format"] == "hf" and facts["architecture"] == "Qwen2ForCausalLM"
    assert facts["context_length"] == 32768 and facts["key_length"] == 128 and facts["rope_scaling"] is None
    assert facts["weights_bytes"] == 1024
    assert facts["kv_bytes_per_token"] == 48 * 8 * 256 * 2
    nested = {"architectures": ["X"], "text_config": dict(config, head_dim=64,
                                                          rope_scaling={"rope_type": "yarn", "factor": 4.0,
                                                                        "original_max_position_embeddings": 32768})}
    (tmp_path / "config.json").write_text(json.dumps(nested))
    facts = model_facts(str(tmp_path))
    assert facts["key_length"] == 64 and facts["rope_scaling"] == "yarn" and facts["rope_original_context"] == 32768
    (tmp_path / "config.json").write_text("{")
    with pytest.raises(ModelFactsError, match="config.json is not JSON"):
        model_facts(str(tmp_path))


def test_the_module(run_module, smollm2, tmp_path):
    result = run_module(module, paths=[smollm2], _ansible_check_mode=True)
    assert result["changed"] is False and result["models"][smollm2]["context_length"] == 8192
    result = run_module(module, paths=[smollm2, str(tmp_path)])
    assert result["failed"] and "cannot read config.json" in result["msg"]
    assert smollm2 in result["models"]
    result = run_module(module, paths=[str(tmp_path), smollm2], on_error="report")
    assert not result.get("failed") and "cannot read config.json" in result["models"][str(tmp_path)]["error"]
    assert result["models"][smollm2]["kv_bytes_per_token"] == 23040


def test_missing_paths_are_left_out_with_skip_missing_and_every_path_has_its_file_state(run_module, smollm2,
                                                                                        tmp_path):
    missing = str(tmp_path / "not-yet.gguf")
    result = run_module(module, paths=[missing, smollm2], skip_missing=True)
    assert not result.get("failed") and list(result["models"]) == [smollm2]
    assert result["files"][missing] == {"exists": False, "isreg": False, "size": None, "mtime": None, "inode": None}
    on_disk = os.stat(smollm2)
    assert result["files"][smollm2] == {"exists": True, "isreg": True, "size": on_disk.st_size,
                                        "mtime": on_disk.st_mtime, "inode": on_disk.st_ino}
    result = run_module(module, paths=[missing, smollm2])
    assert result["failed"] and "not-yet.gguf does not exist" in result["msg"]


def test_the_catalog_holds_the_default_models_config_json():
    """The plan's figures for a default vLLM model before it is downloaded are those of its own config.json."""
    fixtures = ROOT / "tests" / "fixtures" / "model-configs"
    for repo_id in ("Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen3-Coder-30B-A3B-Instruct"):
        facts = model_facts(str(fixtures / repo_id))
        entry = CATALOG[repo_id]
        for key in ("context_length", "layers", "heads", "kv_heads", "key_length", "value_length", "kv_bytes_per_token",
                    "dtype", "architecture", "rope_scaling"):
            assert entry[key] == facts[key], (repo_id, key)


def test_the_catalog_holds_the_smollm2_header(smollm2):
    entry = CATALOG["HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf"]
    facts = model_facts(smollm2)
    for key in ("context_length", "layers", "heads", "kv_heads", "key_length", "value_length", "kv_bytes_per_token",
                "weights_bytes", "architecture"):
        assert entry[key] == facts[key], key
