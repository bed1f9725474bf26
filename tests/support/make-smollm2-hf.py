"""Make the vLLM test model: SmolLM2-135M-Instruct as a Hugging Face snapshot (bf16 safetensors, config.json,
tokenizer), from the real GGUF the tests already use (fetch-smollm2.py). Runs inside the vLLM CPU image, which has
transformers, gguf and accelerate: `python make-smollm2-hf.py GGUF OUT_DIR`. The snapshot is written beside OUT_DIR
and takes its name only when complete.

transformers will not save a model it loaded from a GGUF file, so the model is built again from its config and
given the loaded weights, then saved."""
import os
import shutil
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def main(gguf, out):
    folder, name = os.path.split(os.path.abspath(gguf))
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.bfloat16)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = loaded.config
    # The GGUF's quantization record would make vLLM read the safetensors as a GGUF.
    for attribute in ("quantization_config", "_model_name_or_path"):
        if hasattr(config, attribute):
            delattr(config, attribute)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.load_state_dict(loaded.state_dict())
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(partial, out)
    print(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
