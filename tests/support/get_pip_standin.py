"""Stand-in for pip's get-pip.py bootstrap script, which ansible-test downloads from a host these
machines cannot reach. ansible-test runs it inside an empty virtual environment with pip-install
arguments; this does the same with the standard library's ensurepip, then pip from PyPI.
tests/support/sanity.sh puts it where ansible-test looks for its cached copy."""
import subprocess
import sys

# get-pip.py's own switches; pip does not know them.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# Each step in its own process: ensurepip hides pip's configuration files from the process it runs in.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
