#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_probe
short_description: Read what the kernel made of a Strix Halo box's GPU, memory and host settings
version_added: 0.2.0
description:
  - Reads, and never changes, what the amdgpu role's read-back and C(playbooks/doctor.yml) judge; the running
    kernel, its command line, the loaded modules and the live values of the C(ttm) and C(amdttm) parameters,
    the GPU memory the kernel gives (C(mem_info_gtt_total) and C(mem_info_vram_total) of every DRM card),
    the versions of C(linux-firmware) and C(amdgpu-dkms), and the GPU device nodes.
  - The kernel and hardware files are read under O(root), so that tests can point the module at a fixture
    tree (a fake C(/sys), C(/proc/cmdline), C(/proc/modules), C(/dev), C(/var/lib/dpkg/status)); a box reads
    them under C(/).
  - The box's own state is always read live from C(/) (swap areas, C(vm.swappiness), running processes,
    users' groups, model files and their download records), because a test provokes its drift for real.
  - Runs with Python's standard library only.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  root:
    description: Where the kernel and hardware files are read (C(proc/sys/kernel/osrelease), C(proc/cmdline),
      C(proc/modules), C(sys/), C(dev/), C(var/lib/dpkg/status)).
    type: path
    default: /
  users:
    description: Users whose groups are returned (for the GPU groups check).
    type: list
    elements: str
    default: []
  processes:
    description: Names (C(/proc/PID/comm)) of processes whose command lines are returned.
    type: list
    elements: str
    default: []
  models:
    description:
      - Model paths to check against their download records (C(.NAME.hf.json) beside each file, written by
        M(strix.opencode.hf_download) and M(strix.opencode.hf_snapshot)).
      - A file is verified when its record's size and modification time match it; a directory when every file
        in it is.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - strix.opencode.read_only
"""

EXAMPLES = r"""
- name: Read the box
  strix.opencode.host_probe:
    users: [dev]
    processes: [earlyoom]
  register: probe

- name: Read a fixture tree instead of the kernel's files (tests)
  strix.opencode.host_probe:
    root: /srv/fixture/half-gtt
  register: probe
"""

RETURN = r"""
probe:
  description: What was read. Values that could not be read are null (or empty lists).
  returned: always
  type: dict
  contains:
    root:
      description: The root the kernel and hardware files were read under.
      type: str
    kernel:
      description: The running kernel's release, e.g. C(6.18.5-061805-generic).
      type: str
    os:
      description: The distribution from C(/etc/os-release) (under O(root)), its C(id) and C(version_id) (e.g.
        C(ubuntu) and C(24.04)); null without the file.
      type: dict
    cmdline:
      description: The kernel command line, split into words.
      type: list
      elements: str
    modules:
      description: The loaded modules.
      type: list
      elements: str
    module_params:
      description: Live C(pages_limit) and C(page_pool_size) of the C(ttm) and C(amdttm) modules, by module.
      type: dict
    gpu:
      description: One entry per DRM card with GPU memory figures (C(card), C(gtt_bytes), C(vram_bytes)).
      type: list
      elements: dict
    gtt_bytes:
      description: The GTT of all cards together (bytes), null without a card.
      type: int
    vram_bytes:
      description: The VRAM (the BIOS carve-out on Strix Halo) of all cards together (bytes), null without a card.
      type: int
    packages:
      description: Installed versions of C(linux-firmware), C(amdgpu-dkms) and C(amdgpu-dkms-firmware), by name.
      type: dict
    devices:
      description: C(/dev/kfd) (C(exists), C(chr), C(group), C(mode)) and the render nodes (C(path), C(group)).
      type: dict
    swaps:
      description: Active swap areas from C(/proc/swaps) (C(path), C(type), C(size_kib)).
      type: list
      elements: dict
    swappiness:
      description: The live C(vm.swappiness), and C(swappiness_writable) says whether C(/proc/sys/vm) may be written.
      type: int
    groups:
      description: The groups of each user in O(users) (primary and supplementary); null for an unknown user.
      type: dict
    processes:
      description: For each name in O(processes), the argument lists of the running processes with that name.
      type: dict
    models:
      description: For each path in O(models), C(exists), C(verified) and C(reason).
      type: list
      elements: dict
"""

import glob
import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.strix.opencode.plugins.module_utils.download_records import read_models

PACKAGES = ("linux-firmware", "amdgpu-dkms", "amdgpu-dkms-firmware")
TTM_MODULES = ("ttm", "amdttm")
TTM_PARAMS = ("pages_limit", "page_pool_size")


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def _int(text):
    try:
        return int(text.strip())
    except (AttributeError, ValueError):
        return None


def _under(root, path):
    return os.path.join(root, path.lstrip("/"))


def read_os_release(text):
    """The distribution from /etc/os-release: {id, version_id}, or None without the file."""
    if not text:
        return None
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"\'')
    return {"id": values.get("ID", "").lower() or None, "version_id": values.get("VERSION_ID") or None}


def read_packages(status_text, names=PACKAGES):
    """Installed versions from a dpkg status file's text, for the named packages."""
    found = {}
    for stanza in (status_text or "").split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields.get("Package") in names and fields.get("Status", "").endswith(" installed"):
            found[fields["Package"]] = fields.get("Version")
    return found


def read_gpu(root):
    cards = []
    for device in sorted(glob.glob(_under(root, "/sys/class/drm/card*/device"))):
        gtt = _int(_read(os.path.join(device, "mem_info_gtt_total")))
        vram = _int(_read(os.path.join(device, "mem_info_vram_total")))
        if gtt is None and vram is None:
            continue
        cards.append({"card": os.path.basename(os.path.dirname(device)), "gtt_bytes": gtt, "vram_bytes": vram})
    return cards


def read_devices(root):
    kfd = {"exists": False, "chr": False, "group": None, "mode": None}
    try:
        st = os.stat(_under(root, "/dev/kfd"))
        kfd = {"exists": True, "chr": stat.S_ISCHR(st.st_mode), "group": _group_name(st.st_gid, root),
               "mode": "%04o" % stat.S_IMODE(st.st_mode)}
    except OSError:
        pass
    nodes = []
    for path in sorted(glob.glob(_under(root, "/dev/dri/renderD*"))):
        st = os.stat(path)
        nodes.append({"path": "/dev/dri/" + os.path.basename(path), "group": _group_name(st.st_gid, root),
                      "mode": "%04o" % stat.S_IMODE(st.st_mode)})
    return {"kfd": kfd, "render_nodes": nodes}


def _groups_file(root):
    """name -> (gid, members) from an etc/group file (the fixture's when it has one, else the box's)."""
    text = _read(_under(root, "/etc/group"))
    if text is None:
        text = _read("/etc/group") or ""
    groups = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[2].isdigit():
            groups[parts[0]] = (int(parts[2]), [m for m in parts[3].split(",") if m])
    return groups


def _group_name(gid, root):
    for name, (number, _members) in _groups_file(root).items():
        if number == gid:
            return name
    return str(gid)


def read_user_groups(users):
    groups = _groups_file("/")
    passwd = {}
    for line in (_read("/etc/passwd") or "").splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[3].isdigit():
            passwd[parts[0]] = int(parts[3])
    result = {}
    for user in users:
        if user not in passwd:
            result[user] = None
            continue
        names = [name for name, (gid, members) in groups.items() if gid == passwd[user] or user in members]
        result[user] = sorted(names)
    return result


def read_swaps():
    swaps = []
    for line in (_read("/proc/swaps") or "").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 3 and parts[2].isdigit():
            swaps.append({"path": parts[0].replace("\\040(deleted)", ""), "type": parts[1], "size_kib": int(parts[2])})
    return swaps


def read_processes(names):
    found = dict((name, []) for name in names)
    if not names:
        return found
    for proc in glob.glob("/proc/[0-9]*"):
        comm = (_read(os.path.join(proc, "comm")) or "").strip()
        if comm in found:
            argv = (_read(os.path.join(proc, "cmdline")) or "").split("\0")
            found[comm].append([arg for arg in argv if arg != ""])
    return found


def probe(root="/", users=(), processes=(), models=()):
    cmdline = _read(_under(root, "/proc/cmdline"))
    modules = [line.split()[0] for line in (_read(_under(root, "/proc/modules")) or "").splitlines() if line.strip()]
    params = {}
    for module in TTM_MODULES:
        values = dict((name, _int(_read(_under(root, "/sys/module/%s/parameters/%s" % (module, name)))))
                      for name in TTM_PARAMS)
        if any(value is not None for value in values.values()):
            params[module] = values
    cards = read_gpu(root)
    gtt = [card["gtt_bytes"] for card in cards if card["gtt_bytes"] is not None]
    vram = [card["vram_bytes"] for card in cards if card["vram_bytes"] is not None]
    return {
        "root": root,
        "kernel": (_read(_under(root, "/proc/sys/kernel/osrelease")) or "").strip() or None,
        "os": read_os_release(_read(_under(root, "/etc/os-release"))),
        "cmdline": (cmdline or "").split(),
        "modules": modules,
        "module_params": params,
        "gpu": cards,
        "gtt_bytes": sum(gtt) if gtt else None,
        "vram_bytes": sum(vram) if vram else None,
        "packages": read_packages(_read(_under(root, "/var/lib/dpkg/status"))),
        "devices": read_devices(root),
        "swaps": read_swaps(),
        "swappiness": _int(_read("/proc/sys/vm/swappiness")),
        "swappiness_writable": os.access("/proc/sys/vm/swappiness", os.W_OK),
        "groups": read_user_groups(users),
        "processes": read_processes(processes),
        "models": read_models(models),
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            users=dict(type="list", elements="str", default=[]),
            processes=dict(type="list", elements="str", default=[]),
            models=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not os.path.isdir(params["root"]):
        module.fail_json(msg="host_probe: root %s is not a directory" % params["root"])
    module.exit_json(changed=False, probe=probe(params["root"], params["users"], params["processes"],
                                                params["models"]))


if __name__ == "__main__":
    main()
