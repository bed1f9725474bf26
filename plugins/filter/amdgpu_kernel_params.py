# -*- coding: utf-8 -*-
# Copyright: strix.opencode contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters that let a Strix Halo GPU address most of the unified memory, from one figure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

PAGE = 4096


def amdgpu_kernel_params(gib, iommu_off=True):
    """The parameters for a GPU that may use gib GiB of the unified memory, as an ordered list of strings.

    amdgpu.gttsize is in MiB; ttm.pages_limit and ttm.page_pool_size count 4 KiB pages. 124 GiB gives the
    values the Strix Halo toolboxes recommend: amdgpu.gttsize=126976 ttm.pages_limit=32505856.
    """
    if isinstance(gib, bool) or not isinstance(gib, int) or gib <= 0:
        raise AnsibleFilterError("amdgpu_gpu_memory_gib must be a whole number of GiB above 0, got %r" % (gib,))
    pages = gib * 1024 * 1024 * 1024 // PAGE
    params = ["amd_iommu=off"] if iommu_off else []
    return params + ["amdgpu.gttsize=%d" % (gib * 1024), "ttm.pages_limit=%d" % pages, "ttm.page_pool_size=%d" % pages]


class FilterModule(object):
    def filters(self):
        return {"amdgpu_kernel_params": amdgpu_kernel_params}
