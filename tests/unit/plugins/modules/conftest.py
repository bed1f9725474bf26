"""Run a module's main() in-process with arguments, as Ansible would, and return its JSON result."""
import json

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
