"""A constant load on the gateway, run on a workstation during upgrade.yml: one short completion after another to
the utility and reviewer tiers, until STOP exists; then the counts by status, as JSON, in OUT.

    python3 gateway_load.py URL_BASE KEY_FILE STOP OUT
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

BASE, KEY_FILE, STOP, OUT = sys.argv[1:5]
KEY = open(KEY_FILE).read().strip()
counts = {"ok": 0, "failed": 0, "statuses": {}, "errors": []}
port = 0
while not os.path.exists(STOP):
    port = 8011 if port == 8012 else 8012
    body = json.dumps({"model": "any", "prompt": "The sky is", "max_tokens": 4}).encode()
    request = urllib.request.Request("%s:%d/v1/completions" % (BASE, port), data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer %s" % KEY})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status = answer.status
            json.loads(answer.read())
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        status = "error"
        counts["errors"].append("%s: %s" % (port, error))
    counts["statuses"][str(status)] = counts["statuses"].get(str(status), 0) + 1
    counts["ok" if status == 200 else "failed"] += 1
    time.sleep(0.2)
with open(OUT + ".part", "w") as handle:
    json.dump(counts, handle)
os.rename(OUT + ".part", OUT)
