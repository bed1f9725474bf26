"""The GPU's kernel parameters come from one memory figure, for the memory manager of the driver in use."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.amdgpu import amdgpu_kernel_params


def test_124_gib_gives_the_toolbox_pages_without_the_deprecated_gttsize():
    assert amdgpu_kernel_params(124) == ["amd_iommu=off", "ttm.pages_limit=32505856", "ttm.page_pool_size=32505856"]


def test_values_scale_with_the_figure_and_iommu_can_stay_on():
    # 96 GiB: the 25165824 pages that gave mem_info_gtt_total = 103079215104 bytes on a 128 GB box
    assert amdgpu_kernel_params(96, iommu_off=False) == ["ttm.pages_limit=25165824", "ttm.page_pool_size=25165824"]


def test_the_dkms_driver_gets_amdttm_first_and_ttm_too():
    assert amdgpu_kernel_params(124, True, "dkms") == [
        "amd_iommu=off", "amdttm.pages_limit=32505856", "amdttm.page_pool_size=32505856",
        "ttm.pages_limit=32505856", "ttm.page_pool_size=32505856"]


def test_gttsize_only_when_asked():
    assert amdgpu_kernel_params(124, False, "inbox", True) == [
        "amdgpu.gttsize=126976", "ttm.pages_limit=32505856", "ttm.page_pool_size=32505856"]


@pytest.mark.parametrize("bad", [0, -4, "124", 12.5, True, None])
def test_anything_but_a_positive_whole_number_fails_by_name(bad):
    with pytest.raises(AnsibleFilterError, match="amdgpu_gpu_memory_gib must be a whole number"):
        amdgpu_kernel_params(bad)


def test_an_unknown_driver_fails():
    with pytest.raises(AnsibleFilterError, match="the driver must be inbox or dkms"):
        amdgpu_kernel_params(124, True, "auto")
