"""The GPU's kernel parameters come from one memory figure."""
import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.strix.opencode.plugins.filter.amdgpu_kernel_params import amdgpu_kernel_params


def test_124_gib_gives_the_toolbox_values():
    assert amdgpu_kernel_params(124) == [
        "amd_iommu=off", "amdgpu.gttsize=126976", "ttm.pages_limit=32505856", "ttm.page_pool_size=32505856"]


def test_values_scale_with_the_figure_and_iommu_can_stay_on():
    assert amdgpu_kernel_params(96, iommu_off=False) == [
        "amdgpu.gttsize=98304", "ttm.pages_limit=25165824", "ttm.page_pool_size=25165824"]


@pytest.mark.parametrize("bad", [0, -4, "124", 12.5, True, None])
def test_anything_but_a_positive_whole_number_fails_by_name(bad):
    with pytest.raises(AnsibleFilterError, match="amdgpu_gpu_memory_gib must be a whole number"):
        amdgpu_kernel_params(bad)
