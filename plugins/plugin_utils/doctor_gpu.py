# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The doctor's rows of the GPU: kernel, firmware, driver, kernel parameters, GPU memory and devices; and the row
helpers every doctor row uses. A row is {check, status, detail, fix}."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.strix.opencode.plugins.plugin_utils.amdgpu_driver import (
    GIB, driver_in_use, kernel_carries_support, kernel_params)


def row(check, status, detail, fix=""):
    return {"check": check, "status": status, "detail": detail, "fix": fix if status != "ok" else ""}


def gib_text(value):
    return "%.1f GiB" % (value / float(GIB))


def tag(expect, name):
    """The command that fixes a row: site.yml limited to the box, with the role's tag."""
    return "ansible-playbook playbooks/site.yml -l %s --tags %s" % (expect.get("box", "BOX"), name)


def gpu_memory_row(probe, expect):
    """The read-back: the GTT the kernel gives against the figure asked for, naming the likely cause."""
    gib = expect.get("gpu_memory_gib")
    if not expect.get("gpu_present", True):
        return row("gpu_memory", "skip", "no GPU expected (amdgpu_gpu_present is false)")
    if gib in (None, ""):
        return row("gpu_memory", "skip", "amdgpu_gpu_memory_gib is empty: the GPU memory is left to the kernel")
    gib = int(gib)
    wanted = gib * GIB
    gtt, vram = probe.get("gtt_bytes"), probe.get("vram_bytes") or 0
    pending = expect.get("reboot_pending")
    if gtt is None:
        return row("gpu_memory", "fail", "no mem_info_gtt_total under %s/sys/class/drm: amdgpu is not loaded"
                   % (probe.get("root", "/").rstrip("/")),
                   "reboot to load the driver" if pending else "lsmod | grep amdgpu; dmesg | grep amdgpu")
    detail = "GTT %s of %s asked, VRAM %s" % (gib_text(gtt), gib_text(wanted), gib_text(vram))
    if abs(gtt - wanted) <= wanted // 100:
        return row("gpu_memory", "ok", detail)
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
        fix = "%s -e amdgpu_driver=%s, then reboot" % (tag(expect, "amdgpu"), "dkms" if manager == "amdttm"
                                                       else "inbox")
    elif not limit_words:
        cause = "the kernel command line has no pages_limit: GRUB was not updated or the box booted another entry"
        fix = "%s, then update-grub and reboot" % tag(expect, "amdgpu")
    elif vram > 2 * GIB:
        cause = ("the BIOS carve-out holds %s as VRAM, which the GTT cannot use" % gib_text(vram))
        fix = "set the UMA frame buffer size to its minimum (512 MB) in the BIOS"
    else:
        live = (probe.get("module_params") or {}).get(manager, {}).get("pages_limit")
        cause = "the kernel gave less than asked (%s.pages_limit is %s live)" % (manager, live)
        fix = "check amdgpu_gpu_memory_gib against the RAM, and dmesg | grep -i ttm"
    return row("gpu_memory", "fail", "%s: %s" % (detail, cause), fix)


def devices_row(probe, expect):
    if not expect.get("gpu_present", True):
        return row("devices", "skip", "no GPU expected (amdgpu_gpu_present is false)")
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
        return row("devices", "fail", "; ".join(problems),
                   "is amdgpu loaded (lsmod | grep amdgpu)? %s; for a box without the GPU set "
                   "amdgpu_gpu_present: false" % tag(expect, "amdgpu"))
    return row("devices", "ok", "/dev/kfd and %d render node(s) for video/render; users %s in both"
               % (len(nodes), ", ".join(sorted(probe.get("groups") or {})) or "(none)"))


def kernel_row(probe, expect, driver):
    requirements = expect["requirements"]
    release = probe.get("kernel")
    supported, why, rule = kernel_carries_support(release, requirements, probe.get("os"))
    for bad in requirements.get("bad_kernels") or []:
        if release and release.startswith(bad["release"]) and bad.get("driver") in (None, driver):
            return row("kernel", "fail", "%s: %s (%s)" % (release, bad["why"], bad["source"]), bad["fix"])
    if supported:
        return row("kernel", "ok", why)
    if driver == "dkms":
        return row("kernel", "warn", "%s; amdgpu-dkms serves it" % why,
                   "a kernel at or above %s lets the box use the kernel's own driver (AMD's advice)" % rule["min"])
    return row("kernel", "fail", "%s and the kernel's own driver is used" % why,
               "install a kernel at or above %s (Ubuntu 24.04: its HWE kernel from 6.17.0-19, or linux-oem-24.04), or %s "
               "-e amdgpu_driver=dkms" % (rule["min"], tag(expect, "amdgpu")))


def firmware_row(probe, expect):
    packages = probe.get("packages") or {}
    version = packages.get("linux-firmware")
    if version is None:
        return row("firmware", "warn", "linux-firmware is not installed (dpkg)", "apt-get install linux-firmware")
    for bad in expect["requirements"].get("bad_firmware") or []:
        if version.startswith(bad["version"]):
            return row("firmware", "fail", "linux-firmware %s %s (%s)" % (version, bad["why"], bad["source"]),
                       bad["fix"])
    for suspect in expect["requirements"].get("suspect_firmware") or []:
        if version.startswith(suspect["version"]):
            detail = "linux-firmware %s is suspected: %s (%s)" % (version, suspect["why"], suspect["source"])
            return row("firmware", "warn", detail, suspect["fix"])
    if "amdgpu-dkms-firmware" in packages:
        return row("firmware", "warn", "amdgpu-dkms-firmware %s overrides linux-firmware %s, so its fixes do not "
                   "arrive (ROCm/legacy-rocm-build#5566)" % (packages["amdgpu-dkms-firmware"], version),
                   tag(expect, "amdgpu") + " -e amdgpu_driver=inbox")
    return row("firmware", "ok", "linux-firmware %s" % version)


def driver_row(probe, expect, choice):
    used = driver_in_use(probe)
    wanted = choice["driver"]
    if used is None:
        return row("driver", "warn" if expect.get("reboot_pending") else "fail",
                   "amdgpu is not loaded (%s wanted: %s)" % (wanted, choice["reason"]),
                   "reboot to load it" if expect.get("reboot_pending") else "dmesg | grep amdgpu; "
                   + tag(expect, "amdgpu"))
    if used != wanted:
        return row("driver", "warn" if expect.get("reboot_pending") else "fail",
                   "%s driver in use, %s wanted (%s)" % (used, wanted, choice["reason"]),
                   "reboot" if expect.get("reboot_pending") else tag(expect, "amdgpu"))
    return row("driver", "ok", "%s (%s)" % (used, choice["reason"]))


def params_row(probe, expect, choice):
    gib = expect.get("gpu_memory_gib")
    if gib in (None, ""):
        return row("kernel_params", "skip", "amdgpu_gpu_memory_gib is empty: the command line is left to you")
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
        return row("kernel_params", "warn" if pending else "fail", "; ".join(problems),
                   "reboot (the parameters are written)" if pending else tag(expect, "amdgpu") + ", then reboot")
    extra = [w for w in cmdline if w.startswith("amdgpu.gttsize=") and w not in wanted]
    iommu = [w for w in cmdline if w == "amd_iommu=off" and w not in wanted]
    if extra or iommu:
        notes = []
        if extra:
            notes.append("%s is deprecated next to pages_limit (ROCm/ROCm#5595)" % extra[0])
        if iommu:
            notes.append("amd_iommu=off is on the command line but not asked for (it disables the NPU)")
        return row("kernel_params", "warn", "; ".join(notes), "remove it from /etc/default/grub, update-grub, reboot")
    return row("kernel_params", "ok", " ".join(wanted))
