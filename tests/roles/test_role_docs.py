"""Every role has a README whose variable table matches its argument_specs.yml."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_role_has_readme_and_argument_specs():
    for role in sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()):
        assert (role / "README.md").is_file(), f"{role.name} has no README.md"
        assert (role / "meta" / "argument_specs.yml").is_file(), f"{role.name} has no argument_specs.yml"


def test_variable_tables_match_argument_specs():
    proc = subprocess.run([sys.executable, str(ROOT / "tests/support/role_docs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout


def test_every_default_is_documented_in_argument_specs():
    import yaml
    for role in sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()):
        defaults = yaml.safe_load((role / "defaults/main.yml").read_text()) or {}
        specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
        assert set(defaults) <= set(specs), f"{role.name}: undocumented {set(defaults) - set(specs)}"
        for name, value in defaults.items():
            assert specs[name].get("default") == value, f"{role.name}: {name} default differs from argument_specs"


def test_the_tables_show_every_default_whole():
    """Read back from the README, each default parses to the argument spec's value (lists and dicts too)."""
    import yaml
    for role in sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()):
        specs = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
        rows = {}
        for line in (role / "README.md").read_text().splitlines():
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)][1:]
            if line.startswith("| `") and len(cells) >= 3:
                rows[cells[0].strip("|` ")] = cells[2]
        for name, spec in specs.items():
            if "default" in spec:
                shown = rows[name]
                assert shown.startswith("`") and shown.endswith("`"), (role.name, name, shown)
                assert yaml.safe_load(shown[1:-1].replace("\\|", "|")) == spec["default"], (role.name, name, shown)
