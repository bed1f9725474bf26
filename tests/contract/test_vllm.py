"""Every vLLM command line the plan renders, for every preset, through the real vLLM (the pinned release from
PyPI, tests/support/vllm-venv.sh): its `vllm serve` parser, and its own model-config check of the max model
length against each default model's config.json (tests/fixtures/model-configs)."""
import json
import subprocess

import pytest

from plans import ROOT, plan_of

FIXTURES = ROOT / "tests" / "fixtures" / "model-configs"
CHECK = ROOT / "tests" / "contract" / "vllm_check.py"


@pytest.fixture(scope="session")
def vllm_python():
    out = subprocess.run(["bash", str(ROOT / "tests/support/vllm-venv.sh")], capture_output=True, text=True,
                         check=False, timeout=1800)
    assert out.returncode == 0, "could not install the real vLLM: %s" % out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def run_vllm(python, cases):
    out = subprocess.run([python, str(CHECK)], input=json.dumps(cases), capture_output=True, text=True, check=False,
                         timeout=900, cwd=str(ROOT / "tests" / "contract"))
    assert out.returncode == 0, out.stderr[-3000:]
    return dict((r["name"], r) for r in json.loads(out.stdout.strip().splitlines()[-1]))


def vllm_cases(plans):
    cases = []
    for name, plan in sorted(plans.items()):
        for tier in plan["tiers"]:
            if tier["engine"] == "vllm":
                container = tier["container"]
                assert container["entrypoint"] == ["vllm"]
                cases.append({"name": "%s/%s" % (name, tier["tier"]), "argv": container["command"],
                              "model_dir": str(FIXTURES / tier["model"]["repo_id"]), "tier": tier})
    return cases


@pytest.fixture(scope="session")
def results(vllm_python, preset_plans):
    cases = vllm_cases(preset_plans)
    # What upstream refuses, to show the check can fail: the orchestrator at 65536 without YaRN (the old
    # default), and a flag vLLM does not have.
    old = [c for c in cases if c["name"] == "full/orch"][0]
    argv = list(old["argv"])
    argv[argv.index("--max-model-len") + 1] = "65536"
    cases.append(dict(old, name="refused/65536-without-yarn", argv=argv))
    cases.append(dict(old, name="refused/unknown-flag", argv=old["argv"] + ["--no-such-flag"]))
    found = run_vllm(vllm_python, [dict((k, v) for k, v in c.items() if k != "tier") for c in cases])
    return cases, found


def test_every_presets_vllm_command_line_passes_vllms_parser_and_model_config_check(results):
    cases, found = results
    checked = [c for c in cases if not c["name"].startswith("refused/")]
    assert {c["name"] for c in checked} >= {"gpu/orch", "gpu/coder", "full/orch", "full/coder", "hybrid-radv/coder",
                                            "hybrid-rocm/coder", "full+yarn/orch"}
    for case in checked:
        result = found[case["name"]]
        assert result["parsed"] and not result["error"], (case["name"], result)
        assert result["max_model_len"] == case["tier"]["context"], (case["name"], result)
        assert result["attention_backend"] == "TRITON_ATTN"


def test_yarn_raises_the_length_vllm_accepts_through_hf_overrides(results):
    _cases, found = results
    assert found["full+yarn/orch"]["max_model_len"] == 65536


def test_vllm_refuses_what_the_plan_refuses(results):
    _cases, found = results
    refused = found["refused/65536-without-yarn"]
    assert refused["parsed"] and "User-specified max_model_len (65536) is greater than the derived max_model_len" \
        in refused["error"]
    # the plan refuses the same before any change
    with pytest.raises(AssertionError, match="above the 32768 tokens Qwen/Qwen2.5-14B-Instruct was trained for"):
        plan_of(mode="full", tiers={"orch": {"context": 65536}})
    assert not found["refused/unknown-flag"]["parsed"] and "--no-such-flag" in found["refused/unknown-flag"]["error"]


def test_vllm_guards_its_api_with_the_key_from_the_environment(vllm_python):
    """The stack passes the key as VLLM_API_KEY (an environment file, never the command line): vLLM's own middleware,
    set up as `vllm serve` sets it up with no --api-key, refuses /v1 without the key and leaves /health open."""
    code = """
import os
from argparse import Namespace
os.environ["VLLM_API_KEY"] = "k-0123456789abcdef"
from fastapi import FastAPI
from fastapi.testclient import TestClient
from vllm.entrypoints.serve.middleware.register import init_entrypoints_middleware
app = FastAPI()
app.get("/health")(lambda: {})
app.get("/v1/models")(lambda: {"data": []})
args = Namespace(allowed_origins=["*"], allow_credentials=False, allowed_methods=["*"], allowed_headers=["*"],
                 api_key=None, enable_request_id_headers=False, middleware=[])
init_entrypoints_middleware(args, app, ())
client = TestClient(app)
print(client.get("/health").status_code, client.get("/v1/models").status_code,
      client.get("/v1/models", headers={"Authorization": "Bearer k-0123456789abcdef"}).status_code)
"""
    out = subprocess.run([vllm_python, "-c", code], capture_output=True, text=True, check=False, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "200 401 200"
