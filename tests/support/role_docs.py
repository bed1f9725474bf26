"""Write each role README's variable table from its meta/argument_specs.yml.

The table sits between the markers below; everything else in the README is hand-written.
    python tests/support/role_docs.py          # rewrite the tables
    python tests/support/role_docs.py --check  # exit 1 and name the READMEs that are out of date
"""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN VARIABLES (generated from meta/argument_specs.yml) -->"
END = "<!-- END VARIABLES -->"


def cell(text):
    """Markdown for a table cell: ansible-doc's C()/O() markup as code, pipes escaped."""
    text = re.sub(r"[CO]\(([^)]*)\)", r"`\1`", str(text))
    return text.replace("|", "\\|").replace("\n", " ")


def table(spec_path):
    options = yaml.safe_load(spec_path.read_text())["argument_specs"]["main"].get("options", {})
    rows = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, opt in options.items():
        description = opt.get("description", "")
        if isinstance(description, list):
            description = " ".join(description)
        if opt.get("choices"):
            description += f" Choices: {', '.join(f'`{c}`' for c in opt['choices'])}."
        default = ""
        if opt.get("required"):
            default = "*required*"
        elif "default" in opt:
            # The whole default, lists and dictionaries included, on one line.
            shown = yaml.safe_dump(opt["default"], default_flow_style=True, width=10 ** 6).split("\n...")[0].strip()
            default = "`%s`" % shown.replace("|", "\\|")
        rows.append(f"| `{name}` | {opt.get('type', 'str')} | {default} | {cell(description)} |")
    return "\n".join(rows)


def rendered(readme, spec_path):
    text = readme.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{table(spec_path)}\n{END}{tail}"


def main(check):
    stale = []
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        readme = spec.parent.parent / "README.md"
        new = rendered(readme, spec)
        if new != readme.read_text():
            stale.append(str(readme.relative_to(ROOT)))
            if not check:
                readme.write_text(new)
    if check and stale:
        print("variable tables out of date (run python tests/support/role_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
