# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The amdgpu driver for a Strix Halo box: which driver its kernel calls for, and the kernel parameters that let
the GPU address most of the unified memory. What is expected comes from roles/amdgpu/vars/host_requirements.yml;
nothing here reads the box."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

GIB = 1024 ** 3
PAGE = 4096
DRIVERS = ("auto", "inbox", "dkms")


class HostCheckError(ValueError):
    pass


def version_tuple(release):
    """(6, 17, 0, 19) from a kernel release such as 6.17.0-19-generic (the ABI number counts: Ubuntu's fixes come
    in by it); None when it has no version."""
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:-(\d+))?", str(release or ""))
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def kernel_rule(release, requirements, os_release=None):
    """The first of requirements' kernel_rules that matches the box: its distribution (os-release ID and
    VERSION_ID, when the rule names them) and the release's flavour (its last word, e.g. generic or oem)."""
    os_release = os_release or {}
    flavour = str(release or "").rsplit("-", 1)[-1] if "-" in str(release or "") else ""
    for rule in requirements["kernel_rules"]:
        if rule.get("os") and (rule["os"] != os_release.get("id") or
                               str(rule.get("version", os_release.get("version_id"))) != os_release.get("version_id")):
            continue
        if rule.get("flavour") and rule["flavour"] != flavour:
            continue
        return rule
    raise HostCheckError("amdgpu_host_requirements.kernel_rules has no rule for every box (the last one names none)")


def kernel_carries_support(release, requirements, os_release=None):
    """Whether the kernel's own amdgpu driver serves Strix Halo, why (a sentence), and the rule it was held to."""
    version = version_tuple(release)
    rule = kernel_rule(release, requirements, os_release)
    if version is None:
        return False, "the kernel release %r has no version" % (release,), rule
    if version >= version_tuple(rule["min"]):
        return True, "kernel %s is at or above %s (%s)" % (release, rule["min"], rule["name"]), rule
    return False, "kernel %s is below %s (%s)" % (release, rule["min"], rule["name"]), rule


def choose_driver(setting, release, requirements, os_release=None):
    """{driver: inbox|dkms, reason} for amdgpu_driver (auto follows AMD's advice: the kernel's own driver
    where the kernel carries Strix Halo support, amdgpu-dkms where it does not)."""
    if setting not in DRIVERS:
        raise HostCheckError("amdgpu_driver must be one of %s, got %r" % (", ".join(DRIVERS), setting))
    if setting != "auto":
        return {"driver": setting, "reason": "amdgpu_driver is %s" % setting}
    supported, why, _rule = kernel_carries_support(release, requirements, os_release)
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


def driver_in_use(probe):
    """inbox, dkms or None (amdgpu not loaded), from the loaded modules and the installed packages."""
    modules = probe.get("modules") or []
    if "amdttm" in modules or ("amdgpu" in modules and "amdgpu-dkms" in (probe.get("packages") or {})):
        return "dkms"
    if "amdgpu" in modules:
        return "inbox"
    return None
