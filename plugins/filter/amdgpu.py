# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The amdgpu driver a box calls for, and the kernel parameters that let a Strix Halo GPU address most of the
unified memory: a thin adapter over plugins/plugin_utils/amdgpu_driver.py.

amdgpu_driver_choice(setting, kernel, requirements)  {driver, reason} for amdgpu_driver auto|inbox|dkms
amdgpu_kernel_params(gib, iommu_off, driver, gttsize) the kernel command line words
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.plugin_utils.amdgpu_driver import (
    HostCheckError, choose_driver, kernel_params)


def amdgpu_driver_choice(setting, kernel, requirements, os_release=None):
    try:
        return choose_driver(setting, kernel, requirements, os_release)
    except HostCheckError as error:
        raise AnsibleFilterError(str(error))


def amdgpu_kernel_params(gib, iommu_off=True, driver="inbox", gttsize=False):
    """The parameters for a GPU that may use gib GiB of the unified memory, as an ordered list of strings.

    ttm.pages_limit and ttm.page_pool_size count 4 KiB pages (GiB x 262144); with the DKMS driver the same
    for amdttm first. amdgpu.gttsize (MiB, deprecated) only when asked for.
    """
    try:
        return kernel_params(gib, driver, iommu_off, gttsize)
    except HostCheckError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {"amdgpu_driver_choice": amdgpu_driver_choice, "amdgpu_kernel_params": amdgpu_kernel_params}
