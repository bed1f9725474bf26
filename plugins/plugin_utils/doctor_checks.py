# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's judgement of a Strix Halo box: one row per check, and the tables of one box and of a fleet.

What is read comes from the host_probe module (and, for the stack, from the playbook's own probes); what is
expected comes from the inventory and roles/amdgpu/vars/host_requirements.yml. Nothing here reads the box.
A row is {check, status, detail, fix}: status ok, warn, fail or skip (not applicable to this box), and every
row that is not ok says what to run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.strix.opencode.plugins.plugin_utils.amdgpu_driver import choose_driver
from ansible_collections.strix.opencode.plugins.plugin_utils.doctor_gpu import (
    devices_row, driver_row, firmware_row, gpu_memory_row, kernel_row, params_row, row, tag)

# The doctor's checks, in the order of its table and matrix columns.
CHECKS = ("inventory", "kernel", "firmware", "driver", "kernel_params", "gpu_memory", "devices", "swap", "earlyoom",
          "swappiness", "docker", "images", "models", "tiers", "opencode")
STATUSES = ("ok", "warn", "fail", "skip")


def _swap_row(probe, expect):
    swap = expect.get("swap") or {}
    path = swap.get("path")
    active = [s for s in probe.get("swaps") or [] if s["path"] == path]
    if swap.get("state", "present") == "absent":
        if active:
            return row("swap", "fail", "%s is active, swap_state is absent" % path, tag(expect, "swap"))
        return row("swap", "ok", "%s absent, as asked" % path)
    if not active:
        return row("swap", "fail", "the swap file %s is not active" % path,
                   "swapon %s (or %s)" % (path, tag(expect, "swap")))
    size_mb = active[0]["size_kib"] // 1024
    wanted = int(swap.get("size_mb") or 0)
    # the swap header takes a page of the file
    if wanted and abs(size_mb - wanted) > 1:
        return row("swap", "warn", "%s is active with %d MB, swap_file_size_mb is %d" % (path, size_mb, wanted),
                   tag(expect, "swap") + " -e swap_allow_resize=true")
    return row("swap", "ok", "%s active, %d MB" % (path, size_mb))


def _earlyoom_row(probe, expect):
    running = (probe.get("processes") or {}).get("earlyoom") or []
    wanted = expect.get("earlyoom_args") or []
    if not running:
        return row("earlyoom", "fail", "earlyoom is not running",
                   "systemctl enable --now earlyoom (or %s)" % tag(expect, "earlyoom"))
    args = running[0][1:]
    if wanted and args != wanted:
        return row("earlyoom", "fail", "earlyoom runs with %s, the collection's arguments are %s"
                   % (" ".join(args), " ".join(wanted)),
                   "%s; systemctl restart earlyoom" % tag(expect, "earlyoom"))
    return row("earlyoom", "ok", "running with %s" % " ".join(args))


def _swappiness_row(probe, expect):
    live, wanted = probe.get("swappiness"), expect.get("swappiness")
    if live == wanted:
        return row("swappiness", "ok", "vm.swappiness %s" % live)
    if not probe.get("swappiness_writable", True):
        return row("swappiness", "warn", "vm.swappiness is %s, %s asked; /proc/sys/vm is read-only here (a "
                   "container: the host's kernel sets it)" % (live, wanted), "set it on the host: sysctl vm.swappiness=%s"
                   % wanted)
    return row("swappiness", "fail", "vm.swappiness is %s, %s asked" % (live, wanted),
               "sysctl vm.swappiness=%s (or %s)" % (wanted, tag(expect, "swappiness")))


def _docker_row(expect):
    docker = expect.get("docker") or {}
    if docker.get("ok"):
        return row("docker", "ok", "Docker Engine %s" % docker.get("version", ""))
    return row("docker", "fail", "the Docker engine does not answer: %s" % docker.get("error", "unknown"),
               "systemctl start docker (or %s)" % tag(expect, "docker"))


def _image_present(name, info):
    """The image entry of docker_image_info's list that is name (tag, or name@digest), else None."""
    wanted = name if ("@" in name or ":" in name.rsplit("/", 1)[-1]) else name + ":latest"
    for image in info or []:
        if wanted in (image.get("RepoTags") or []) or wanted in (image.get("RepoDigests") or []):
            return image
    return None


def _images_row(expect):
    names = expect.get("images") or []
    if not names:
        return row("images", "skip", "no tier planned")
    if not (expect.get("docker") or {}).get("ok"):
        return row("images", "fail", "not looked at: the Docker engine does not answer", tag(expect, "docker"))
    found, missing = [], []
    for name in names:
        image = _image_present(name, expect.get("image_info"))
        if image is None:
            missing.append(name)
        else:
            digests = image.get("RepoDigests") or []
            found.append("%s %s" % (name, (digests[0].split("@", 1)[1] if digests else image.get("Id", ""))[:19]))
    if missing:
        return row("images", "fail", "not on the box: %s" % ", ".join(missing), tag(expect, "stack"))
    return row("images", "ok", ", ".join(found))


def _models_row(probe, expect):
    local = set(expect.get("local_models") or [])
    problems, hub, files = [], 0, 0
    for model in probe.get("models") or []:
        if not model["exists"]:
            problems.append("%s is missing" % model["path"])
        elif model["path"] in local:
            files += 1
        elif not model["verified"]:
            problems.append("%s is not verified: %s" % (model["path"], model["reason"]))
        else:
            hub += 1
    if problems:
        return row("models", "fail", "; ".join(problems), tag(expect, "models"))
    if not hub + files:
        return row("models", "skip", "no model planned")
    parts = (["%d from the Hub, each verified by its download record" % hub] if hub else []) + \
        (["%d local model(s) present" % files] if files else [])
    return row("models", "ok", "; ".join(parts))


def tier_states(results):
    """[{tier, port, state, detail}] from tier_health's looped results (item: the plan's tier)."""
    states = []
    for result in results or []:
        item = result.get("item") or {}
        states.append({"tier": item.get("tier"), "port": item.get("port"),
                       "state": result.get("state") or "down",
                       "detail": result.get("detail") or result.get("msg") or ""})
    return states


def _tiers_row(expect):
    tiers = tier_states(expect.get("tiers"))
    if not tiers:
        return row("tiers", "skip", "no tier planned")
    detail = ", ".join("%s %s" % (t["tier"], t["state"]) for t in tiers)
    if any(t["state"] == "down" for t in tiers):
        return row("tiers", "fail", detail, "%s; ansible-playbook playbooks/health.yml -l %s"
                   % (tag(expect, "stack"), expect.get("box", "BOX")))
    if any(t["state"] != "healthy" for t in tiers):
        return row("tiers", "warn", detail, "wait for the loading tiers, then ansible-playbook playbooks/health.yml")
    return row("tiers", "ok", detail)


def _opencode_row(expect, parse):
    files = expect.get("opencode")
    if files is None:
        return row("opencode", "skip", "OpenCode is not configured by this inventory")
    tiers = tier_states(expect.get("tiers"))
    problems, count = [], 0
    for result in files:
        config = (result.get("item") or {}).get("config", "opencode.jsonc")
        if "content" not in result:
            problems.append("%s: %s" % (config, result.get("msg") or "cannot be read"))
            continue
        count += 1
        found = parse(result["content"], tiers)
        if found:
            problems.append("%s: %s" % (config, "; ".join(found)))
    if problems:
        return row("opencode", "fail", "; ".join(problems), tag(expect, "opencode"))
    if not count:
        return row("opencode", "fail", "no opencode.jsonc", tag(expect, "opencode"))
    mismatch = cli_plugin_mismatch(expect.get("opencode_cli"), expect.get("opencode_plugin"))
    if mismatch:
        return row("opencode", "warn", mismatch, tag(expect, "opencode") + " (opencode_cli_version: a 1.x release) "
                   "with opencode_install_cli: true, or npm install -g opencode-ai@1")
    return row("opencode", "ok", "%d configuration(s), every local model on a healthy tier" % count)


# OpenCode 2 (npm @opencode/cli) reads the 1.x configuration, but does not load 1.x plugins: oh-my-openagent fails
# to load on it (code-yeongyu/oh-my-openagent#8485, #8548).
V1_PLUGINS = ("oh-my-openagent", "oh-my-opencode")


def cli_plugin_mismatch(version, plugin):
    """Why the OpenCode CLI on the box and its plugin do not go together, or "" (also when either is unknown)."""
    match = re.match(r"^v?(\d+)\.", version or "")
    if not match or not plugin or int(match.group(1)) < 2:
        return ""
    if any(plugin == name or plugin.startswith(name + "@") for name in V1_PLUGINS):
        return ("OpenCode %s does not load the plugin %s, a plugin for OpenCode 1.x (oh-my-openagent#8485): the agents "
                "it defines are missing" % (version, plugin))
    return ""


def doctor_rows(probe, expect, parse_opencode=None):
    """The doctor's rows of one box, in CHECKS order (without the inventory row, which the playbook adds).

    parse_opencode(base64 text, tiers) lists an opencode.jsonc's problems (the filter passes one that parses
    JSON with comments)."""
    gpu = expect.get("gpu_present", True)
    choice = expect.get("driver_choice") or choose_driver(expect.get("driver", "auto"), probe.get("kernel"),
                                                          expect["requirements"])
    rows = []
    if gpu:
        rows += [kernel_row(probe, expect, choice["driver"]), firmware_row(probe, expect),
                 driver_row(probe, expect, choice), params_row(probe, expect, choice)]
    else:
        rows += [row(check, "skip", "no GPU expected (amdgpu_gpu_present is false)")
                 for check in ("kernel", "firmware", "driver", "kernel_params")]
    rows += [gpu_memory_row(probe, expect), devices_row(probe, expect), _swap_row(probe, expect),
             _earlyoom_row(probe, expect), _swappiness_row(probe, expect), _docker_row(expect), _images_row(expect),
             _models_row(probe, expect), _tiers_row(expect), _opencode_row(expect, parse_opencode)]
    return rows


def summary(boxes):
    """{failed, bad: [{box, failed: [checks] or None when the box was not read}]} of {box: rows or None}."""
    bad = []
    for box in sorted(boxes):
        rows = boxes[box]
        if rows is None:
            bad.append({"box": box, "failed": None})
        else:
            failed = [r["check"] for r in rows if r["status"] == "fail"]
            if failed:
                bad.append({"box": box, "failed": failed})
    return {"failed": bool(bad), "bad": bad}


def table(rows):
    """One box's rows as text lines."""
    lines = ["%-13s %-5s %s" % ("check", "", "detail")]
    for row in rows:
        lines.append("%-13s %-5s %s" % (row["check"], row["status"], row["detail"]))
        if row["fix"]:
            lines.append("%-13s %-5s fix: %s" % ("", "", row["fix"]))
    return lines


def matrix(boxes):
    """Boxes down the side, checks across: boxes is {box: rows or None (unreachable)}."""
    short = dict((c, c[:6]) for c in CHECKS)
    short.update({"inventory": "invent", "kernel_params": "params", "gpu_memory": "gpumem", "swappiness": "swpns", "opencode": "opencd"})
    width = max([len("box")] + [len(b) for b in boxes])
    lines = [" ".join(["%-*s" % (width, "box")] + ["%-6s" % short[c] for c in CHECKS]).rstrip()]
    for box in sorted(boxes):
        rows = boxes[box]
        if rows is None:
            lines.append("%-*s unreachable" % (width, box))
            continue
        status = dict((r["check"], r["status"]) for r in rows)
        lines.append(" ".join(["%-*s" % (width, box)] + ["%-6s" % status.get(c, "-") for c in CHECKS]).rstrip())
    return lines
