"""Run a module's main() in-process with arguments, as Ansible would, and return its JSON result; serve the vLLM
stand-in in this process."""
import json
import sys
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    def run(module, **args):
        """Return the module's result; "failed" is set exactly when it exited non-zero."""
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                module.main()
        result = json.loads(capsys.readouterr().out)
        assert result.get("failed", False) == (exc.value.code != 0)
        return result
    return run


@pytest.fixture
def vllm_server():
    """start(argv after "vllm", load_seconds, never_ready) -> the base URL of the vLLM stand-in serving it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
    import vllm_standin  # pylint: disable=import-outside-toplevel
    servers = []

    def start(argv, load_seconds=0.0, never_ready=False):
        engine = vllm_standin.Engine(vllm_standin.parse(argv), load_seconds, never_ready)
        server = ThreadingHTTPServer(("127.0.0.1", 0), vllm_standin.handler(engine))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
