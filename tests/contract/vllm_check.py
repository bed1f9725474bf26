"""Runs inside the real vLLM's virtualenv (tests/support/vllm-venv.sh): for each command line given on stdin,
vLLM's own `vllm serve` parser, then vLLM's own model configuration (ModelConfig: the max-model-len check
against config.json, hf_overrides, dtype) for the model directory given. Prints one JSON result per case.

stdin: [{"name": ..., "argv": ["serve", "/models/orch", ...], "model_dir": "<dir with config.json>"}]
stdout: [{"name": ..., "parsed": bool, "error": str, "max_model_len": int|null, "attention_backend": str|null}]
"""
import contextlib
import io
import json
import os
import sys

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")  # no GPU here: the CPU platform, for the configuration only
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vllm.engine.arg_utils import EngineArgs  # noqa: E402  pylint: disable=wrong-import-position
from vllm.entrypoints.cli.serve import ServeSubcommand  # noqa: E402  pylint: disable=wrong-import-position
from vllm.utils.argparse_utils import FlexibleArgumentParser  # noqa: E402  pylint: disable=wrong-import-position


def parser():
    top = FlexibleArgumentParser(prog="vllm")
    ServeSubcommand().subparser_init(top.add_subparsers(dest="subparser"))
    return top


def check(case):
    result = {"name": case["name"], "parsed": False, "error": "", "max_model_len": None, "attention_backend": None}
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parser().parse_args(case["argv"])
    except SystemExit:
        result["error"] = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else "parser exited"
        return result
    result["parsed"] = True
    result["attention_backend"] = str(getattr(args, "attention_backend", None) or "") or None
    # the container mounts the model at /models/<tier>; here its config.json is the fixture's
    args.model = case["model_dir"]
    args.model_tag = None
    try:
        config = EngineArgs.from_cli_args(args).create_model_config()
    except Exception as error:  # pylint: disable=broad-except
        result["error"] = " ".join(str(error).split())
        return result
    result["max_model_len"] = config.max_model_len
    return result


def main():
    cases = json.load(sys.stdin)
    results = [check(case) for case in cases]
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
