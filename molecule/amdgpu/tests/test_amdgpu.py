"""auto chose the kernel's own driver on the 6.18.5 box and amdgpu-dkms (from the stand-in of AMD's repository)
on the 6.8.0 box; each got the memory parameters of its driver's memory manager once, the groups, no reboot."""
import json

TTM = ["ttm.pages_limit=32505856", "ttm.page_pool_size=32505856"]
AMDTTM = ["amdttm.pages_limit=32505856", "amdttm.page_pool_size=32505856"]


def dkms(host):
    return host.backend.get_hostname() == "strix-amdgpu-dkms"


def test_the_driver_follows_the_kernel(host):
    kernel = host.check_output("uname -r")
    if dkms(host):
        for package in ("amdgpu-dkms", "linux-headers-" + kernel):
            assert host.package(package).is_installed, package
        policy = host.check_output("apt-cache policy amdgpu-dkms")
        assert "600 http://127.0.0.1:8091/amdgpu/6.4.4/ubuntu bookworm/main" in policy
    else:
        assert not host.package("amdgpu-dkms").is_installed
        assert not host.file("/etc/apt/sources.list.d/amdgpu.sources").exists
        assert not host.file("/etc/apt/preferences.d/amdgpu-pin-600").exists


def test_the_dkms_repository_is_signed_and_pinned(host):
    if not dkms(host):
        return
    sources = host.file("/etc/apt/sources.list.d/amdgpu.sources").content_string
    assert "URIs: http://127.0.0.1:8091/amdgpu/6.4.4/ubuntu" in sources
    assert "Signed-By: /etc/apt/keyrings/amdgpu.asc" in sources
    assert "BEGIN PGP PUBLIC KEY BLOCK" in host.file("/etc/apt/keyrings/amdgpu.asc").content_string
    pin = host.file("/etc/apt/preferences.d/amdgpu-pin-600").content_string
    assert "Pin: release o=repo.radeon.com" in pin and "Pin-Priority: 600" in pin


def test_the_kernel_parameters_match_the_driver_exactly_once(host):
    cmdline = host.file("/boot/grub/cmdline.standin").content_string.split()
    assert cmdline[:2] == ["quiet", "splash"]
    wanted = ["amd_iommu=off"] + (AMDTTM + TTM if dkms(host) else TTM)
    assert cmdline[2:] == wanted
    assert not [word for word in cmdline if word.startswith("amdgpu.gttsize")]
    # converge changed the parameters once; the idempotence and check runs did not update GRUB again
    assert host.file("/boot/grub/update-grub.calls").content_string.count("call") == 1


def test_the_user_has_the_gpu_groups(host):
    assert host.group("render").exists
    assert {"video", "render"} <= set(host.user("dev").groups)


def test_no_reboot_but_a_pending_reboot_on_record(host):
    assert host.file("/run/strix-not-rebooted").exists
    record = json.loads(host.file("/etc/ansible/facts.d/strix_amdgpu.fact").content_string)
    assert record["reboot_pending"] is True
    assert record["boot_id"] == host.file("/proc/sys/kernel/random/boot_id").content_string.strip()
    assert record["driver"] == ("dkms" if dkms(host) else "inbox")
    assert record["gtt_bytes"] is None
