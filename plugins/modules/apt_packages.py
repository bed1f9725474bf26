#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apt_packages
short_description: Install missing Debian packages, refreshing the package lists only when one is missing
version_added: 0.1.0
description:
  - Asks C(dpkg-query) which of O(name) are installed. When all are, nothing else runs, so a converge of a host
    that has everything asks no package source anything (nothing leaves the box unless asked).
  - When some are missing, installs those with M(ansible.builtin.apt), refreshing the package lists first when
    they are older than O(cache_valid_time).
  - One task in place of a probe and an install, so a no-op converge pays for one.
  - This is an action plugin; it runs C(dpkg-query) and M(ansible.builtin.apt) on the host.
author:
  - strix.opencode maintainers (@strix-opencode)
options:
  name:
    description: The packages that must be installed (a version with C(name=version), as M(ansible.builtin.apt) takes).
    type: list
    elements: str
    required: true
  cache_valid_time:
    description: Refresh the package lists before installing when they are older than this many seconds.
    type: int
    default: 3600
  install_recommends:
    description: Passed to M(ansible.builtin.apt); unset, the host's apt configuration decides.
    type: bool
  policy_rc_d:
    description: Passed to M(ansible.builtin.apt) (e.g. C(101) keeps a package's service from starting).
    type: int
attributes:
  action:
    support: full
    description: An action plugin, which runs C(dpkg-query) and M(ansible.builtin.apt) on the host.
  async:
    support: none
    description: Runs to its end.
  check_mode:
    support: full
    description: Reports the missing packages as a change, as M(ansible.builtin.apt) does in check mode.
  diff_mode:
    support: full
    description: M(ansible.builtin.apt)'s diff of the packages it would install.
  platform:
    support: full
    platforms: debian
    description: Debian and Ubuntu hosts (C(dpkg) and C(apt)).
notes:
  - The probe runs in check mode too (it only reads the package database).
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install earlyoom (the package lists are refreshed only when it is missing)
  strix.opencode.apt_packages:
    name: [earlyoom]

- name: Install the engine without starting it
  strix.opencode.apt_packages:
    name: [docker.io, containerd]
    policy_rc_d: 101
"""

RETURN = r"""
missing:
  description: The packages of O(name) that were not installed.
  returned: always
  type: list
  elements: str
  sample: [earlyoom]
cache_updated:
  description: Whether the package lists were refreshed (from M(ansible.builtin.apt)).
  returned: when a package was missing
  type: bool
  sample: true
"""
