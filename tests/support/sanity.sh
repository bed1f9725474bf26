#!/usr/bin/env bash
# ansible-test sanity on a copy of the checkout laid out as ansible_collections/strix/opencode
# (ansible-test only runs from such a path). ansible-test's --venv mode fetches a pip bootstrap
# script from a host these machines cannot reach, so the tests run in local mode inside a venv of
# their own (.cache/sanity-venv), where --requirements installs ansible-test's pinned linters from PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."

core=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("ansible-core"))')
venv=.cache/sanity-venv
installed=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ansible-core"))' 2>/dev/null || true)
if [ "$installed" != "$core" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "ansible-core==$core"
fi

# The sanity tests that run in venvs of their own bootstrap pip with a script ansible-test fetches
# from a host outside the package registries; give it the stand-in under the name it looks for.
pip_version=$("$venv/bin/python" -c 'from ansible_test._internal.python_requirements import get_venv_packages; print(get_venv_packages(None)["pip"])' 2>/dev/null \
  || "$venv/bin/python" -c 'import re, ansible_test, pathlib; print(re.search(r"pip=.([0-9.]+)", (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()).group(1))')
mkdir -p ~/.ansible/test/cache
cp tests/support/get_pip_standin.py ~/.ansible/test/cache/get_pip_${pip_version//./_}.py

dest=.cache/sanity/ansible_collections/strix/opencode
rm -rf "$dest"
mkdir -p "$dest"
git ls-files --cached --others --exclude-standard | tar -c -T - | tar -x -C "$dest"
cd "$dest"
# ansible-test lists a collection's files with git when it is a repository; make it one.
git init -q && git add -A
PATH="$OLDPWD/$venv/bin:$PATH" ansible-test sanity --requirements --python "$("$OLDPWD/$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  --color no "$@"
