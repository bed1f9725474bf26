# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a model says of itself: a GGUF file's header metadata, or a Hugging Face snapshot's config.json and
safetensors sizes. Standard library only (it runs on the managed host)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import struct

GGUF_MAGIC = b"GGUF"
# GGUF value types: (struct format, size) for the fixed-size ones
_FIXED = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4), 6: ("<f", 4),
          7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_STRING, _ARRAY = 8, 9
# Bytes per element of the KV cache and of weights by dtype name
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "f32": 4, "f16": 2, "bf16": 2, "float8": 1, "fp8": 1}


class ModelFactsError(Exception):
    pass


class _Reader(object):
    def __init__(self, handle, path):
        self.handle, self.path = handle, path

    def read(self, size):
        data = self.handle.read(size)
        if len(data) != size:
            raise ModelFactsError("%s: the GGUF header ends early (truncated file?)" % self.path)
        return data

    def unpack(self, fmt, size):
        return struct.unpack(fmt, self.read(size))[0]

    def string(self):
        length = self.unpack("<Q", 8)
        if length > 1 << 24:
            raise ModelFactsError("%s: a GGUF string of %d bytes: not a GGUF header" % (self.path, length))
        return self.read(length).decode("utf-8", "replace")

    def value(self, kind, keep=True):
        """A value of the given type. Arrays of numbers up to 4096 long (per-layer head counts) are kept; other
        arrays (the tokenizer's vocabulary) are read through and kept only when asked for."""
        if kind in _FIXED:
            return self.unpack(*_FIXED[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.unpack("<I", 4), self.unpack("<Q", 8)
            if item_kind in _FIXED and count <= 4096:
                keep = True
            elif item_kind in _FIXED and not keep:
                self.handle.seek(_FIXED[item_kind][1] * count, os.SEEK_CUR)
                return None
            items = [self.value(item_kind, keep) for dummy in range(count)]
            return items if keep else None
        raise ModelFactsError("%s: unknown GGUF value type %d" % (self.path, kind))


def read_gguf_metadata(path, keep_arrays=False):
    """The key/value metadata of a GGUF file (versions 2 and 3). Arrays (the tokenizer's vocabulary) are
    skipped unless keep_arrays; their keys map to None."""
    with open(path, "rb") as handle:
        reader = _Reader(handle, path)
        if reader.read(4) != GGUF_MAGIC:
            raise ModelFactsError("%s is not a GGUF file (no GGUF magic)" % path)
        version = reader.unpack("<I", 4)
        if version not in (2, 3):
            raise ModelFactsError("%s: GGUF version %d is not supported (2 and 3 are)" % (path, version))
        tensors, count = reader.unpack("<Q", 8), reader.unpack("<Q", 8)
        metadata = {"GGUF.version": version, "GGUF.tensor_count": tensors}
        for dummy in range(count):
            key = reader.string()
            kind = reader.unpack("<I", 4)
            metadata[key] = reader.value(kind, keep_arrays or kind != _ARRAY)
    return metadata


def kv_bytes_per_token(layers, kv_heads, key_length, value_length, dtype_bytes=2):
    """The KV cache one token takes in every layer (its keys and values), or None without the figures. The one
    formula of the collection: the catalog and the plan use it too."""
    if not all(isinstance(v, int) and v > 0 for v in (layers, kv_heads, key_length, value_length)):
        return None
    return layers * kv_heads * (key_length + value_length) * dtype_bytes


def gguf_facts(path):
    meta = read_gguf_metadata(path)
    arch = meta.get("general.architecture")
    if not arch:
        raise ModelFactsError("%s: the GGUF metadata names no general.architecture" % path)

    def get(name):
        return meta.get("%s.%s" % (arch, name))

    heads = get("attention.head_count")
    heads = heads[0] if isinstance(heads, list) else heads
    kv_heads = get("attention.head_count_kv")
    kv_heads = (kv_heads[0] if isinstance(kv_heads, list) else kv_heads) or heads
    embedding = get("embedding_length")
    head_dim = embedding // heads if isinstance(embedding, int) and isinstance(heads, int) and heads else None
    key_length = get("attention.key_length") or head_dim
    value_length = get("attention.value_length") or head_dim
    layers = get("block_count")
    return {
        "format": "gguf", "path": path, "architecture": arch, "name": meta.get("general.name"),
        "context_length": get("context_length"), "layers": layers, "heads": heads, "kv_heads": kv_heads,
        "key_length": key_length, "value_length": value_length, "embedding_length": embedding,
        "rope_scaling": get("rope.scaling.type"), "rope_scaling_factor": get("rope.scaling.factor"),
        "rope_original_context": get("rope.scaling.original_context_length"),
        "file_type": meta.get("general.file_type"), "weights_bytes": os.path.getsize(path),
        # llama.cpp's default KV cache type is f16
        "kv_bytes_per_token": kv_bytes_per_token(layers, kv_heads, key_length, value_length, 2),
        "gguf_version": meta["GGUF.version"], "tensor_count": meta["GGUF.tensor_count"],
    }


def hf_facts(directory):
    config_path = os.path.join(directory, "config.json")
    try:
        with open(config_path) as handle:
            config = json.load(handle)
    except (IOError, OSError) as error:
        raise ModelFactsError("%s: cannot read config.json (%s)" % (directory, error))
    except ValueError as error:
        raise ModelFactsError("%s is not JSON (%s)" % (config_path, error))
    # multimodal and some MoE configs nest the language model's settings
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    heads = text.get("num_attention_heads")
    kv_heads = text.get("num_key_value_heads") or heads
    hidden = text.get("hidden_size")
    head_dim = text.get("head_dim") or (hidden // heads if isinstance(hidden, int) and heads else None)
    dtype = str(text.get("torch_dtype") or config.get("torch_dtype") or text.get("dtype") or "bfloat16")
    layers = text.get("num_hidden_layers")
    weights = 0
    for name in os.listdir(directory):
        if name.endswith(".safetensors"):
            weights += os.path.getsize(os.path.join(directory, name))
    rope = text.get("rope_scaling") or None
    return {
        "format": "hf", "path": directory, "architecture": (config.get("architectures") or [None])[0],
        "model_type": config.get("model_type"), "context_length": text.get("max_position_embeddings"),
        "layers": layers, "heads": heads, "kv_heads": kv_heads, "key_length": head_dim, "value_length": head_dim,
        "embedding_length": hidden, "dtype": dtype,
        "rope_scaling": (rope or {}).get("rope_type") or (rope or {}).get("type"),
        "rope_scaling_factor": (rope or {}).get("factor"),
        "rope_original_context": (rope or {}).get("original_max_position_embeddings"),
        "weights_bytes": weights or None,
        "kv_bytes_per_token": kv_bytes_per_token(layers, kv_heads, head_dim, head_dim, DTYPE_BYTES.get(dtype, 2)),
    }


def model_facts(path):
    """The facts of the model at path: a GGUF file, or a directory with config.json."""
    if os.path.isdir(path):
        return hf_facts(path)
    if not os.path.exists(path):
        raise ModelFactsError("%s does not exist" % path)
    return gguf_facts(path)
