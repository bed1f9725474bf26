"""Every llama.cpp command line the plan renders, for every preset, through the llama-server the tests build
(tests/support/build-llama-server-image.sh: llama.cpp as vendored by llama-cpp-python 0.3.36): its own argument
parser takes the whole line (llama-server parses every argument before it acts on --help, so the line with
--help added exits 0 only when each flag and value is one it accepts), and rejects what upstream rejects."""
import subprocess

import pytest

IMAGE = "strix-opencode-llama-server:latest"


def llama_server(args):
    """llama-server's own parser on args (docker run of the image the tests build); (exit code, output)."""
    proc = subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "llama-server", IMAGE]
                          + args + ["--help"], capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def engine():
    info = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False)
    assert info.returncode == 0, "the llama-server image is not built (make images): %s" % info.stderr


def llamacpp_lines(plans):
    lines = {}
    for name, plan in sorted(plans.items()):
        for tier in plan["tiers"]:
            if tier["engine"] == "llamacpp":
                assert tier["container"]["entrypoint"] == ["llama-server"]
                lines["%s/%s" % (name, tier["tier"])] = tier["container"]["command"]
    return lines


def test_every_presets_llamacpp_command_line_passes_llama_servers_parser(engine, preset_plans):
    lines = llamacpp_lines(preset_plans)
    assert {"cpu/reviewer", "cpu/utility", "full/reviewer", "hybrid-radv/orch", "hybrid-rocm/orch",
            "gpu-llamacpp/orch", "gpu-llamacpp/coder", "hybrid-rocm+yarn/orch"} <= set(lines)
    assert "--rope-scaling" in lines["hybrid-rocm+yarn/orch"] and "-dev" in lines["cpu/reviewer"]
    # one container for all: each line parsed in turn
    for name, args in sorted(lines.items()):
        code, out = llama_server(args)
        assert code == 0 and "----- common params -----" in out, (name, out[-1500:])


@pytest.mark.parametrize("extra,message", [
    (["--no-mmap"], "invalid argument: --no-mmap"),  # removed upstream (llama.cpp PR 28334)
    (["--load-mode", "sometimes"], 'error while handling argument "--load-mode"'),
    (["--rope-scaling", "stretchy"], 'error while handling argument "--rope-scaling"'),
    (["--flash-attn", "maybe"], 'error while handling argument "--flash-attn"'),
])
def test_llama_server_rejects_what_upstream_rejects(engine, preset_plans, extra, message):
    args = preset_plans["cpu"]["tiers"][0]["container"]["command"] + extra
    code, out = llama_server(args)
    assert code != 0 and message in out, out[-1500:]
