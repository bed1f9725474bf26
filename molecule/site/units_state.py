"""The site box's tier units, as JSON: each unit's systemd properties, which tier starts first (from the units'
own After=), and "ready" once both are active and each has restarted more often than argv[1] (JSON, unit ->
count; a unit not named need only be active). Run on the box by side_effect.yml."""
import json
import subprocess
import sys

UNITS = ["molecule-site-reviewer.service", "molecule-site-utility.service"]
PROPS = ["ActiveState", "NRestarts", "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic", "After"]

over = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
units = {}
for unit in UNITS:
    out = subprocess.run(["systemctl", "show", unit] + ["-p" + p for p in PROPS], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    units[unit] = {"active": props["ActiveState"] == "active", "restarts": int(props["NRestarts"]),
                   "main_started": int(props["ExecMainStartTimestampMonotonic"]),
                   "active_since": int(props["ActiveEnterTimestampMonotonic"]), "after": props["After"].split()}
second = [u for u in UNITS if any(other in units[u]["after"] for other in UNITS if other != u)]
first = [u for u in UNITS if u not in second]
print(json.dumps({
    "units": units, "first": first[0] if len(first) == 1 else None, "second": second[0] if len(second) == 1 else None,
    "ready": all(u["active"] and u["restarts"] > over.get(name, -1) for name, u in units.items())}))
