# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judgement of a Strix Halo box: the driver to use, the kernel parameters for it, and the doctor's rows.

What is read comes from the host_probe module (and, for the stack, from the playbook's own probes); what is
expected comes from the inventory and roles/amdgpu/vars/host_requirements.yml. Nothing here reads the box.
A row is {check, status, detail, fix}: status ok, warn, fail or skip (not applicable to this box), and every
row that is not ok says what to run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

GIB = 1024 ** 3
PAGE = 4096
DRIVERS = ("auto", "inbox", "dkms")
# The doctor's checks, in the order of its table and matrix columns.
CHECKS = ("inventory", "kernel", "firmware", "driver", "kernel_params", "gpu_memory", "devices", "swap", "earlyoom",
          "swappiness", "docker", "images", "models", "tiers", "opencode")
STATUSES = ("ok", "warn", "fail", "skip")


class HostCheckError(ValueError):
    pass


def version_tuple(release):
    """(6, 18, 4) from a kernel release such as 6.18.4-061804-generic; None when it has no version."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", str(release or ""))
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def kernel_carries_support(release, requirements):
    """Whether the kernel's own amdgpu driver serves Strix Halo, and why (a sentence)."""
    version = version_tuple(release)
    if version is None:
        return False, "the kernel release %r has no version" % (release,)
    oem = re.search(r"-oem$", release or "") is not None
    minimum = requirements["kernel_min_oem"] if oem else requirements["kernel_min"]
    kind = "OEM kernel" if oem else "kernel"
    if version >= version_tuple(minimum):
        return True, "%s %s is at or above %s" % (kind, release, minimum)
    return False, "%s %s is below %s" % (kind, release, minimum)


def choose_driver(setting, release, requirements):
    """{driver: inbox|dkms, reason} for amdgpu_driver (auto follows AMD's advice: the kernel's own driver
    where the kernel carries Strix Halo support, amdgpu-dkms where it does not)."""
    if setting not in DRIVERS:
        raise HostCheckError("amdgpu_driver must be one of %s, got %r" % (", ".join(DRIVERS), setting))
    if setting != "auto":
        return {"driver": setting, "reason": "amdgpu_driver is %s" % setting}
    supported, why = kernel_carries_support(release, requirements)
    if supported:
        return {"driver": "inbox", "reason": "auto: %s, so the kernel's own driver (AMD's advice for Strix Halo)" % why}
    return {"driver": "dkms", "reason": "auto: %s, so amdgpu-dkms (the kernel's own driver lacks Strix Halo support)"
            % why}


def ttm_modules(driver):
    """The memory managers whose parameters are set: ttm for the kernel's driver; amdttm (the DKMS driver's
    own copy) and ttm for DKMS, so a box that falls back to the kernel's driver (DKMS failing to build for a
    new kernel) keeps its GPU memory. A parameter of a module that is not loaded does nothing."""
    return ["amdttm", "ttm"] if driver == "dkms" else ["ttm"]


def kernel_params(gib, driver="inbox", iommu_off=True, gttsize=False):
    """The kernel command line words for a GPU that may use gib GiB of the unified memory."""
    if isinstance(gib, bool) or not isinstance(gib, int) or gib <= 0:
        raise HostCheckError("amdgpu_gpu_memory_gib must be a whole number of GiB above 0, got %r" % (gib,))
    if driver not in ("inbox", "dkms"):
        raise HostCheckError("the driver must be inbox or dkms, got %r" % (driver,))
    pages = gib * GIB // PAGE
    params = ["amd_iommu=off"] if iommu_off else []
    if gttsize:
        params.append("amdgpu.gttsize=%d" % (gib * 1024))
    for module in ttm_modules(driver):
        params += ["%s.pages_limit=%d" % (module, pages), "%s.page_pool_size=%d" % (module, pages)]
    return params


def _row(check, status, detail, fix=""):
    return {"check": check, "status": status, "detail": detail, "fix": fix if status != "ok" else ""}


def _gib(value):
    return "%.1f GiB" % (value / float(GIB))


def _tag(expect, tag):
    return "ansible-playbook playbooks/site.yml -l %s --tags %s" % (expect.get("box", "BOX"), tag)


def driver_in_use(probe):
    """inbox, dkms or None (amdgpu not loaded), from the loaded modules and the installed packages."""
    modules = probe.get("modules") or []
    if "amdttm" in modules or ("amdgpu" in modules and "amdgpu-dkms" in (probe.get("packages") or {})):
        return "dkms"
    if "amdgpu" in modules:
        return "inbox"
    return None


def gpu_memory_row(probe, expect):
    """The read-back: the GTT the kernel gives against the figure asked for, naming the likely cause."""
    gib = expect.get("gpu_memory_gib")
    if not expect.get("gpu_present", True):
        return _row("gpu_memory", "skip", "no GPU expected (amdgpu_gpu_present is false)")
    if gib in (None, ""):
        return _row("gpu_memory", "skip", "amdgpu_gpu_memory_gib is empty: the GPU memory is left to the kernel")
    gib = int(gib)
    wanted = gib * GIB
    gtt, vram = probe.get("gtt_bytes"), probe.get("vram_bytes") or 0
    pending = expect.get("reboot_pending")
    if gtt is None:
        return _row("gpu_memory", "fail", "no mem_info_gtt_total under %s/sys/class/drm: amdgpu is not loaded"
                    % (probe.get("root", "/").rstrip("/")),
                    "reboot to load the driver" if pending else "lsmod | grep amdgpu; dmesg | grep amdgpu")
    detail = "GTT %s of %s asked, VRAM %s" % (_gib(gtt), _gib(wanted), _gib(vram))
    if abs(gtt - wanted) <= wanted // 100:
        return _row("gpu_memory", "ok", detail)
    cmdline = probe.get("cmdline") or []
    loaded = [m for m in ("amdttm", "ttm") if m in (probe.get("modules") or [])]
    manager = "amdttm" if "amdttm" in loaded else "ttm"
    limit_words = dict(w.split("=", 1) for w in cmdline if re.match(r"^(amdttm|ttm)\.pages_limit=", w))
    if pending:
        cause = "a reboot is pending: the box has not booted with the parameters yet"
        fix = "reboot %s (or run with -e amdgpu_reboot=true)" % expect.get("box", "the box")
    elif "%s.pages_limit" % manager not in limit_words and limit_words:
        other = sorted(limit_words)[0]
        cause = ("parameter for the wrong module: the command line sets %s, but the driver's memory manager is %s"
                 % (other, manager))
        fix = "%s -e amdgpu_driver=%s, then reboot" % (_tag(expect, "amdgpu"), "dkms" if manager == "amdttm"
                                                       else "inbox")
    elif not limit_words:
        cause = "the kernel command line has no pages_limit: GRUB was not updated or the box booted another entry"
        fix = "%s, then update-grub and reboot" % _tag(expect, "amdgpu")
    elif vram > 2 * GIB:
        cause = ("the BIOS carve-out holds %s as VRAM, which the GTT cannot use" % _gib(vram))
        fix = "set the UMA frame buffer size to its minimum (512 MB) in the BIOS"
    else:
        live = (probe.get("module_params") or {}).get(manager, {}).get("pages_limit")
        cause = "the kernel gave less than asked (%s.pages_limit is %s live)" % (manager, live)
        fix = "check amdgpu_gpu_memory_gib against the RAM, and dmesg | grep -i ttm"
    return _row("gpu_memory", "fail", "%s: %s" % (detail, cause), fix)


def devices_row(probe, expect):
    if not expect.get("gpu_present", True):
        return _row("devices", "skip", "no GPU expected (amdgpu_gpu_present is false)")
    devices = probe.get("devices") or {}
    kfd = devices.get("kfd") or {}
    nodes = devices.get("render_nodes") or []
    problems = []
    if not kfd.get("exists"):
        problems.append("/dev/kfd is missing")
    elif not kfd.get("chr"):
        problems.append("/dev/kfd is not a character device")
    elif kfd.get("group") not in ("render", "video"):
        problems.append("/dev/kfd belongs to group %s with mode %s" % (kfd.get("group"), kfd.get("mode")))
    if not nodes:
        problems.append("no render node in /dev/dri")
    problems += ["%s belongs to group %s" % (n["path"], n["group"]) for n in nodes
                 if n.get("group") not in ("render", "video")]
    for user, groups in sorted((probe.get("groups") or {}).items()):
        if groups is None:
            problems.append("user %s does not exist" % user)
        elif not {"video", "render"} <= set(groups):
            problems.append("user %s is not in %s" % (user, " and ".join(sorted({"video", "render"} - set(groups)))))
    if problems:
        return _row("devices", "fail", "; ".join(problems),
                    "is amdgpu loaded (lsmod | grep amdgpu)? %s; for a box without the GPU set "
                    "amdgpu_gpu_present: false" % _tag(expect, "amdgpu"))
    return _row("devices", "ok", "/dev/kfd and %d render node(s) for video/render; users %s in both"
                % (len(nodes), ", ".join(sorted(probe.get("groups") or {})) or "(none)"))


def _kernel_row(probe, expect, driver):
    requirements = expect["requirements"]
    release = probe.get("kernel")
    supported, why = kernel_carries_support(release, requirements)
    for bad in requirements.get("bad_kernels") or []:
        if release and release.startswith(bad["release"]) and bad.get("driver") in (None, driver):
            return _row("kernel", "fail", "%s: %s (%s)" % (release, bad["why"], bad["source"]), bad["fix"])
    if supported:
        return _row("kernel", "ok", why)
    if driver == "dkms":
        return _row("kernel", "warn", "%s; amdgpu-dkms serves it" % why,
                    "a kernel at or above %s lets the box use the kernel's own driver (AMD's advice)"
                    % requirements["kernel_min"])
    return _row("kernel", "fail", "%s and the kernel's own driver is used" % why,
                "install a kernel at or above %s (Ubuntu 24.04: linux-oem-24.04), or %s -e amdgpu_driver=dkms"
                % (requirements["kernel_min"], _tag(expect, "amdgpu")))


def _firmware_row(probe, expect):
    packages = probe.get("packages") or {}
    version = packages.get("linux-firmware")
    if version is None:
        return _row("firmware", "warn", "linux-firmware is not installed (dpkg)", "apt-get install linux-firmware")
    for bad in expect["requirements"].get("bad_firmware") or []:
        if version.startswith(bad["version"]):
            return _row("firmware", "fail", "linux-firmware %s %s (%s)" % (version, bad["why"], bad["source"]),
                        bad["fix"])
    if "amdgpu-dkms-firmware" in packages:
        return _row("firmware", "warn", "amdgpu-dkms-firmware %s overrides linux-firmware %s, so its fixes do not "
                    "arrive (ROCm/legacy-rocm-build#5566)" % (packages["amdgpu-dkms-firmware"], version),
                    _tag(expect, "amdgpu") + " -e amdgpu_driver=inbox")
    return _row("firmware", "ok", "linux-firmware %s" % version)


def _driver_row(probe, expect, choice):
    used = driver_in_use(probe)
    wanted = choice["driver"]
    if used is None:
        return _row("driver", "warn" if expect.get("reboot_pending") else "fail",
                    "amdgpu is not loaded (%s wanted: %s)" % (wanted, choice["reason"]),
                    "reboot to load it" if expect.get("reboot_pending") else "dmesg | grep amdgpu; "
                    + _tag(expect, "amdgpu"))
    if used != wanted:
        return _row("driver", "warn" if expect.get("reboot_pending") else "fail",
                    "%s driver in use, %s wanted (%s)" % (used, wanted, choice["reason"]),
                    "reboot" if expect.get("reboot_pending") else _tag(expect, "amdgpu"))
    return _row("driver", "ok", "%s (%s)" % (used, choice["reason"]))


def _params_row(probe, expect, choice):
    gib = expect.get("gpu_memory_gib")
    if gib in (None, ""):
        return _row("kernel_params", "skip", "amdgpu_gpu_memory_gib is empty: the command line is left to you")
    cmdline = probe.get("cmdline") or []
    wanted = kernel_params(int(gib), choice["driver"], expect.get("iommu_off", True), expect.get("gttsize", False))
    missing = [w for w in wanted if w not in cmdline]
    used = driver_in_use(probe)
    problems = []
    if missing:
        problems.append("missing from /proc/cmdline: %s" % " ".join(missing))
    if used == "dkms" and not any(w.startswith("amdttm.pages_limit=") for w in cmdline):
        problems.append("the DKMS driver's memory manager is amdttm, and no amdttm.pages_limit is set")
    if problems:
        pending = expect.get("reboot_pending")
        return _row("kernel_params", "warn" if pending else "fail", "; ".join(problems),
                    "reboot (the parameters are written)" if pending else _tag(expect, "amdgpu") + ", then reboot")
    extra = [w for w in cmdline if w.startswith("amdgpu.gttsize=") and w not in wanted]
    iommu = [w for w in cmdline if w == "amd_iommu=off" and w not in wanted]
    if extra or iommu:
        notes = []
        if extra:
            notes.append("%s is deprecated next to pages_limit (ROCm/ROCm#5595)" % extra[0])
        if iommu:
            notes.append("amd_iommu=off is on the command line but not asked for (it disables the NPU)")
        return _row("kernel_params", "warn", "; ".join(notes), "remove it from /etc/default/grub, update-grub, reboot")
    return _row("kernel_params", "ok", " ".join(wanted))


def _swap_row(probe, expect):
    swap = expect.get("swap") or {}
    path = swap.get("path")
    active = [s for s in probe.get("swaps") or [] if s["path"] == path]
    if swap.get("state", "present") == "absent":
        if active:
            return _row("swap", "fail", "%s is active, swap_state is absent" % path, _tag(expect, "swap"))
        return _row("swap", "ok", "%s absent, as asked" % path)
    if not active:
        return _row("swap", "fail", "the swap file %s is not active" % path,
                    "swapon %s (or %s)" % (path, _tag(expect, "swap")))
    size_mb = active[0]["size_kib"] // 1024
    wanted = int(swap.get("size_mb") or 0)
    # the swap header takes a page of the file
    if wanted and abs(size_mb - wanted) > 1:
        return _row("swap", "warn", "%s is active with %d MB, swap_file_size_mb is %d" % (path, size_mb, wanted),
                    _tag(expect, "swap") + " -e swap_allow_resize=true")
    return _row("swap", "ok", "%s active, %d MB" % (path, size_mb))


def _earlyoom_row(probe, expect):
    running = (probe.get("processes") or {}).get("earlyoom") or []
    wanted = expect.get("earlyoom_args") or []
    if not running:
        return _row("earlyoom", "fail", "earlyoom is not running",
                    "systemctl enable --now earlyoom (or %s)" % _tag(expect, "earlyoom"))
    args = running[0][1:]
    if wanted and args != wanted:
        return _row("earlyoom", "fail", "earlyoom runs with %s, the collection's arguments are %s"
                    % (" ".join(args), " ".join(wanted)),
                    "%s; systemctl restart earlyoom" % _tag(expect, "earlyoom"))
    return _row("earlyoom", "ok", "running with %s" % " ".join(args))


def _swappiness_row(probe, expect):
    live, wanted = probe.get("swappiness"), expect.get("swappiness")
    if live == wanted:
        return _row("swappiness", "ok", "vm.swappiness %s" % live)
    if not probe.get("swappiness_writable", True):
        return _row("swappiness", "warn", "vm.swappiness is %s, %s asked; /proc/sys/vm is read-only here (a "
                    "container: the host's kernel sets it)" % (live, wanted), "set it on the host: sysctl vm.swappiness=%s"
                    % wanted)
    return _row("swappiness", "fail", "vm.swappiness is %s, %s asked" % (live, wanted),
                "sysctl vm.swappiness=%s (or %s)" % (wanted, _tag(expect, "swappiness")))


def _docker_row(expect):
    docker = expect.get("docker") or {}
    if docker.get("ok"):
        return _row("docker", "ok", "Docker Engine %s" % docker.get("version", ""))
    return _row("docker", "fail", "the Docker engine does not answer: %s" % docker.get("error", "unknown"),
                "systemctl start docker (or %s)" % _tag(expect, "docker"))


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
        return _row("images", "skip", "no tier planned")
    if not (expect.get("docker") or {}).get("ok"):
        return _row("images", "fail", "not looked at: the Docker engine does not answer", _tag(expect, "docker"))
    found, missing = [], []
    for name in names:
        image = _image_present(name, expect.get("image_info"))
        if image is None:
            missing.append(name)
        else:
            digests = image.get("RepoDigests") or []
            found.append("%s %s" % (name, (digests[0].split("@", 1)[1] if digests else image.get("Id", ""))[:19]))
    if missing:
        return _row("images", "fail", "not on the box: %s" % ", ".join(missing), _tag(expect, "stack"))
    return _row("images", "ok", ", ".join(found))


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
        return _row("models", "fail", "; ".join(problems), _tag(expect, "models"))
    if not hub + files:
        return _row("models", "skip", "no model planned")
    parts = (["%d from the Hub, each verified by its download record" % hub] if hub else []) + \
        (["%d local model(s) present" % files] if files else [])
    return _row("models", "ok", "; ".join(parts))


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
        return _row("tiers", "skip", "no tier planned")
    detail = ", ".join("%s %s" % (t["tier"], t["state"]) for t in tiers)
    if any(t["state"] == "down" for t in tiers):
        return _row("tiers", "fail", detail, "%s; ansible-playbook playbooks/health.yml -l %s"
                    % (_tag(expect, "stack"), expect.get("box", "BOX")))
    if any(t["state"] != "healthy" for t in tiers):
        return _row("tiers", "warn", detail, "wait for the loading tiers, then ansible-playbook playbooks/health.yml")
    return _row("tiers", "ok", detail)


def _opencode_row(expect, parse):
    files = expect.get("opencode")
    if files is None:
        return _row("opencode", "skip", "OpenCode is not configured by this inventory")
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
        return _row("opencode", "fail", "; ".join(problems), _tag(expect, "opencode"))
    if not count:
        return _row("opencode", "fail", "no opencode.jsonc", _tag(expect, "opencode"))
    return _row("opencode", "ok", "%d configuration(s), every local model on a healthy tier" % count)


def doctor_rows(probe, expect, parse_opencode=None):
    """The doctor's rows of one box, in CHECKS order (without the inventory row, which the playbook adds).

    parse_opencode(base64 text, tiers) lists an opencode.jsonc's problems (the filter passes one that parses
    JSON with comments)."""
    gpu = expect.get("gpu_present", True)
    choice = expect.get("driver_choice") or choose_driver(expect.get("driver", "auto"), probe.get("kernel"),
                                                          expect["requirements"])
    rows = []
    if gpu:
        rows += [_kernel_row(probe, expect, choice["driver"]), _firmware_row(probe, expect),
                 _driver_row(probe, expect, choice), _params_row(probe, expect, choice)]
    else:
        rows += [_row(check, "skip", "no GPU expected (amdgpu_gpu_present is false)")
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


def opencode_problems(config, tiers):
    """What is wrong with one parsed opencode.jsonc: a model that names no provider, or a provider on the
    box's own address whose port no running tier serves. tiers: [{tier, port, state}]."""
    problems = []
    providers = config.get("provider") or {}
    ports = dict((int(t["port"]), t) for t in tiers)
    for name, provider in sorted(providers.items()):
        url = ((provider or {}).get("options") or {}).get("baseURL") or ""
        match = re.match(r"^https?://(127\.0\.0\.1|localhost|\[::1\]|0\.0\.0\.0)(?::(\d+))?", url)
        if not match:
            continue
        port = int(match.group(2) or 80)
        if port not in ports:
            problems.append("provider %s points at port %d, where no tier of the plan runs" % (name, port))
        elif ports[port]["state"] != "healthy":
            problems.append("provider %s points at the %s tier, which is %s"
                            % (name, ports[port]["tier"], ports[port]["state"]))
    refs = [("model", config.get("model")), ("small_model", config.get("small_model"))]
    refs += [("agent %s" % name, (agent or {}).get("model")) for name, agent in sorted((config.get("agent") or {}).items())]
    for where, ref in refs:
        if not ref:
            continue
        provider, model = (str(ref).split("/", 1) + [""])[:2]
        if provider not in providers:
            problems.append("%s names provider %s, which is not configured" % (where, provider))
        elif model not in ((providers[provider] or {}).get("models") or {}):
            problems.append("%s names model %s, which provider %s does not list" % (where, model, provider))
    return problems


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
