"""The doctor's judgement: every fail and warn row, the read-back's causes, the driver choice and the matrix."""
import base64
import json
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.strix.opencode.plugins.filter.doctor import doctor_rows, opencode_problems
from ansible_collections.strix.opencode.plugins.modules import host_probe
from ansible_collections.strix.opencode.plugins.plugin_utils import amdgpu_driver, doctor_checks, doctor_gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import gpu_fixture  # noqa: E402  pylint: disable=wrong-import-position

REPO = Path(__file__).resolve().parents[4]
REQUIREMENTS = yaml.safe_load((REPO / "roles/amdgpu/vars/host_requirements.yml").read_text())["amdgpu_host_requirements"]
GIB = 1024 ** 3
EARLYOOM = ["-m", "5", "-s", "100", "-r", "3600", "--prefer", "^(llama-server)$", "--avoid", "^(init)$"]
OPENCODE = """// a comment
{"model": "local_rev/rev", "small_model": "local_util/util",
 "provider": {"local_rev": {"options": {"baseURL": "http://127.0.0.1:8011/v1"}, "models": {"rev": {}}},
              "local_util": {"options": {"baseURL": "http://127.0.0.1:8012/v1"}, "models": {"util": {}}},
              "cloud": {"options": {}, "models": {"big": {}}}},
 "agent": {"plan": {"model": "cloud/big"}}}"""


def tier_result(tier, port, state):
    return {"item": {"tier": tier, "port": port}, "state": state, "detail": ""}


def expect(**change):
    base = {
        "box": "strix-1", "requirements": REQUIREMENTS, "driver": "auto", "gpu_present": True, "gpu_memory_gib": 124,
        "iommu_off": True, "gttsize": False, "reboot_pending": False,
        "swap": {"state": "present", "path": "/swap.img", "size_mb": 1024},
        "earlyoom_args": EARLYOOM, "swappiness": 80,
        "docker": {"ok": True, "version": "27.5.1"},
        "images": ["llama-server:latest"],
        "image_info": [{"RepoTags": ["llama-server:latest"], "RepoDigests": ["llama-server@sha256:" + "ab" * 32],
                        "Id": "sha256:" + "cd" * 32}],
        "local_models": [],
        "tiers": [tier_result("reviewer", 8011, "healthy"), tier_result("utility", 8012, "healthy")],
        "opencode": [{"item": {"config": "/root/.config/opencode/opencode.jsonc"},
                      "content": base64.b64encode(OPENCODE.encode()).decode()}],
    }
    base.update(change)
    return base


def probe_of(tmp_path, kernel="6.18.5-061805-generic", gtt=124, driver="inbox", **options):
    root = str(tmp_path / "root")
    gpu_fixture.build(root, kernel, gtt, driver, **options)
    probe = host_probe.probe(root)
    probe.update({
        "swaps": [{"path": "/swap.img", "type": "file", "size_kib": 1024 * 1024 - 4}], "swappiness": 80,
        "swappiness_writable": True, "groups": {"dev": ["dev", "render", "video"]},
        "processes": {"earlyoom": [["/usr/bin/earlyoom"] + EARLYOOM]},
        "models": [{"path": "/models/a.gguf", "exists": True, "verified": True, "reason": ""}]})
    return probe


def rows_of(probe, **change):
    return dict((row["check"], row) for row in doctor_rows(probe, expect(**change)))


def test_a_conforming_box_is_all_ok(tmp_path):
    rows = doctor_rows(probe_of(tmp_path), expect())
    assert [r["check"] for r in rows] == list(doctor_checks.CHECKS[1:])
    assert dict((r["check"], r["status"]) for r in rows) == dict((c, "ok") for c in doctor_checks.CHECKS[1:])
    assert all(r["fix"] == "" for r in rows)


def test_every_row_not_ok_names_a_fix(tmp_path):
    probe = probe_of(tmp_path, kernel="6.8.0-60-generic", gtt=62, firmware="20251125.git1-0ubuntu1", devices=False)
    probe.update({"swaps": [], "swappiness": 60, "processes": {"earlyoom": []}, "modules": [],
                  "groups": {"dev": ["dev"]}, "models": [{"path": "/m", "exists": False, "verified": False,
                                                          "reason": "missing"}]})
    rows = rows_of(probe, driver="inbox", docker={"ok": False, "error": "no socket"},
                   tiers=[tier_result("reviewer", 8011, "down")], opencode=[])
    assert dict((c, r["status"]) for c, r in rows.items() if r["status"] != "fail") == {}
    assert all(row["fix"] for row in rows.values())


def test_kernel_rows(tmp_path):
    assert rows_of(probe_of(tmp_path, kernel="6.8.0-60-generic"), driver="inbox")["kernel"]["status"] == "fail"
    assert "below 6.18.4" in rows_of(probe_of(tmp_path, kernel="6.8.0-60-generic"))["kernel"]["detail"]
    warn = rows_of(probe_of(tmp_path, kernel="6.8.0-60-generic", driver="dkms"), driver="dkms")["kernel"]
    assert warn["status"] == "warn" and "amdgpu-dkms serves it" in warn["detail"]
    assert rows_of(probe_of(tmp_path, kernel="6.17.0-1012-oem"))["kernel"]["status"] == "ok"
    bad = rows_of(probe_of(tmp_path, kernel="6.18.7-061807-generic", driver="dkms"), driver="dkms")["kernel"]
    assert bad["status"] == "fail" and "legacy-rocm-build#5905" in bad["detail"]


def test_firmware_rows(tmp_path):
    row = rows_of(probe_of(tmp_path, firmware="20251125.gitabc-0ubuntu2"))["firmware"]
    assert row["status"] == "fail" and "troubleshooting-firmware" in row["detail"] and "20251111" in row["fix"]
    probe = probe_of(tmp_path)
    probe["packages"] = {}
    assert rows_of(probe)["firmware"]["status"] == "warn"
    probe["packages"] = {"linux-firmware": "20260810.git1-0ubuntu1"}
    suspect = rows_of(probe)["firmware"]
    assert suspect["status"] == "warn" and "suspected" in suspect["detail"] and "20260622" in suspect["fix"]
    probe["packages"] = {"linux-firmware": "20260110", "amdgpu-dkms-firmware": "1:6.16"}
    assert "overrides linux-firmware" in rows_of(probe)["firmware"]["detail"]


def test_driver_rows(tmp_path):
    dkms = probe_of(tmp_path, driver="dkms")
    row = rows_of(dkms)["driver"]
    assert row["status"] == "fail" and row["detail"].startswith("dkms driver in use, inbox wanted")
    assert rows_of(dkms, reboot_pending=True)["driver"]["status"] == "warn"
    probe = probe_of(tmp_path)
    probe["modules"] = []
    assert "amdgpu is not loaded" in rows_of(probe)["driver"]["detail"]


def test_parameter_rows(tmp_path):
    row = rows_of(probe_of(tmp_path, booted=False))["kernel_params"]
    assert row["status"] == "fail" and "missing from /proc/cmdline: amd_iommu=off ttm.pages_limit" in row["detail"]
    dkms = probe_of(tmp_path, kernel="6.8.0-60-generic", driver="dkms", cmdline_modules=["ttm"])
    assert "no amdttm.pages_limit is set" in rows_of(dkms)["kernel_params"]["detail"]
    probe = probe_of(tmp_path)
    probe["cmdline"].append("amdgpu.gttsize=126976")
    assert rows_of(probe)["kernel_params"]["status"] == "warn"
    assert rows_of(probe, gttsize=True)["kernel_params"]["status"] == "ok"
    assert rows_of(probe_of(tmp_path), gttsize=True)["kernel_params"]["status"] == "fail"  # asked, not on the line
    assert rows_of(probe_of(tmp_path), gpu_memory_gib=None)["kernel_params"]["status"] == "skip"
    kept = rows_of(probe_of(tmp_path), iommu_off=False)["kernel_params"]
    assert kept["status"] == "warn" and "it disables the NPU" in kept["detail"]
    assert rows_of(probe_of(tmp_path, iommu_off=False), iommu_off=False)["kernel_params"]["status"] == "ok"


def test_the_read_back_names_the_likely_cause(tmp_path):
    assert rows_of(probe_of(tmp_path))["gpu_memory"]["detail"] == "GTT 124.0 GiB of 124.0 GiB asked, VRAM 0.5 GiB"
    cases = [
        (probe_of(tmp_path, gtt=62, booted=False), {}, "GRUB was not updated"),
        (probe_of(tmp_path, kernel="6.8.0-60-generic", gtt=62, driver="dkms", cmdline_modules=["ttm"]), {},
         "parameter for the wrong module: the command line sets ttm.pages_limit, but the driver's memory manager "
         "is amdttm"),
        (probe_of(tmp_path, gtt=62, booted=False), {"reboot_pending": True}, "a reboot is pending"),
        (probe_of(tmp_path, gtt=60, vram_mib=64 * 1024), {}, "the BIOS carve-out holds 64.0 GiB as VRAM"),
        (probe_of(tmp_path, gtt=100), {}, "the kernel gave less than asked"),
    ]
    for probe, change, cause in cases:
        row = rows_of(probe, **change)["gpu_memory"]
        assert row["status"] == "fail" and cause in row["detail"], (cause, row)
        assert row["fix"]
    probe = probe_of(tmp_path)
    probe.update({"gtt_bytes": None, "gpu": []})
    assert "amdgpu is not loaded" in rows_of(probe)["gpu_memory"]["detail"]


def test_device_rows(tmp_path):
    row = rows_of(probe_of(tmp_path, devices=False))["devices"]
    assert row["status"] == "fail" and "/dev/kfd is missing" in row["detail"]
    assert "amdgpu_gpu_present: false" in row["fix"]
    probe = probe_of(tmp_path)
    probe["groups"] = {"dev": ["dev", "video"], "ghost": None}
    detail = rows_of(probe)["devices"]["detail"]
    assert "user dev is not in render" in detail and "user ghost does not exist" in detail
    rows = rows_of(probe_of(tmp_path), gpu_present=False)
    assert [rows[c]["status"] for c in ("kernel", "firmware", "driver", "kernel_params", "gpu_memory", "devices")] \
        == ["skip"] * 6


def test_swap_earlyoom_and_swappiness_rows(tmp_path):
    probe = probe_of(tmp_path)
    probe["swaps"] = []
    assert "is not active" in rows_of(probe)["swap"]["detail"]
    probe["swaps"] = [{"path": "/swap.img", "type": "file", "size_kib": 512 * 1024}]
    assert rows_of(probe)["swap"]["status"] == "warn"
    assert rows_of(probe, swap={"state": "absent", "path": "/swap.img"})["swap"]["status"] == "fail"
    probe["processes"] = {"earlyoom": [["earlyoom", "-m", "10"]]}
    row = rows_of(probe)["earlyoom"]
    assert row["status"] == "fail" and "runs with -m 10" in row["detail"]
    probe["swappiness"] = 60
    assert rows_of(probe)["swappiness"]["status"] == "fail"
    probe["swappiness_writable"] = False
    assert rows_of(probe)["swappiness"]["status"] == "warn"


def test_stack_rows(tmp_path):
    probe = probe_of(tmp_path)
    assert rows_of(probe, image_info=[])["images"]["status"] == "fail"
    assert "@" not in rows_of(probe, images=["llama-server@sha256:" + "ab" * 32])["images"]["detail"].split()[0][:0]
    assert rows_of(probe, images=["llama-server@sha256:" + "ab" * 32])["images"]["status"] == "ok"
    assert rows_of(probe, docker={"ok": False, "error": "x"})["images"]["status"] == "fail"
    probe["models"] = [{"path": "/models/a.gguf", "exists": True, "verified": False, "reason": "no download record"}]
    assert rows_of(probe)["models"]["status"] == "fail"
    assert rows_of(probe, local_models=["/models/a.gguf"])["models"]["status"] == "ok"
    loading = rows_of(probe_of(tmp_path), tiers=[tier_result("reviewer", 8011, "loading"),
                                                 tier_result("utility", 8012, "healthy")])
    assert loading["tiers"]["status"] == "warn"
    assert loading["opencode"]["status"] == "fail" and "which is loading" in loading["opencode"]["detail"]
    assert rows_of(probe_of(tmp_path), opencode=None)["opencode"]["status"] == "skip"


def test_opencode_problems():
    tiers = [{"tier": "reviewer", "port": 8011, "state": "healthy"}]
    problems = opencode_problems(OPENCODE, tiers)
    assert problems == ["provider local_util points at port 8012, where no tier of the plan runs"]
    broken = OPENCODE.replace('"small_model": "local_util/util"', '"small_model": "local_util/nope"')
    assert "small_model names model nope, which provider local_util does not list" in opencode_problems(broken, tiers)
    assert opencode_problems("{", tiers)[0].startswith("it does not parse")


def test_driver_choice_and_parameters():
    assert amdgpu_driver.choose_driver("auto", "6.18.5-061805-generic", REQUIREMENTS)["driver"] == "inbox"
    assert amdgpu_driver.choose_driver("auto", "6.18.3-061803-generic", REQUIREMENTS)["driver"] == "dkms"
    assert amdgpu_driver.choose_driver("auto", "6.14.0-1018-oem", REQUIREMENTS)["driver"] == "inbox"
    assert amdgpu_driver.choose_driver("auto", "6.14.0-1008-oem", REQUIREMENTS)["driver"] == "dkms"
    assert amdgpu_driver.choose_driver("dkms", "6.19.0", REQUIREMENTS) == {
        "driver": "dkms", "reason": "amdgpu_driver is dkms"}
    with pytest.raises(amdgpu_driver.HostCheckError, match="amdgpu_driver must be one of"):
        amdgpu_driver.choose_driver("radeon", "6.19.0", REQUIREMENTS)
    assert amdgpu_driver.kernel_params(96, "dkms", iommu_off=False) == [
        "amdttm.pages_limit=25165824", "amdttm.page_pool_size=25165824",
        "ttm.pages_limit=25165824", "ttm.page_pool_size=25165824"]


UBUNTU_2404 = {"id": "ubuntu", "version_id": "24.04"}


@pytest.mark.parametrize("release,os_release,driver", [
    # the most common Ubuntu set-up: 24.04 with its HWE kernel, from AMD's first fixed ABI on
    ("6.17.0-19-generic", UBUNTU_2404, "inbox"),
    ("6.17.0-18-generic", UBUNTU_2404, "dkms"),
    ("6.8.0-90-generic", UBUNTU_2404, "dkms"),
    ("7.0.0-12-generic", {"id": "ubuntu", "version_id": "26.04"}, "inbox"),
    # elsewhere (or not known), 6.18.4
    ("6.17.0-19-generic", {"id": "fedora", "version_id": "43"}, "dkms"),
    ("6.17.0-19-generic", None, "dkms"),
    ("6.18.4-200.fc43.x86_64", {"id": "fedora", "version_id": "43"}, "inbox"),
])
def test_the_kernel_rules_follow_amds_list_by_distribution_and_kernel_package(release, os_release, driver):
    choice = amdgpu_driver.choose_driver("auto", release, REQUIREMENTS, os_release)
    assert choice["driver"] == driver, choice


def test_doctor_passes_the_ubuntu_2404_hwe_kernel_with_the_kernels_own_driver():
    row = doctor_gpu.kernel_row({"kernel": "6.17.0-19-generic", "os": UBUNTU_2404, "packages": {}},
                                {"requirements": REQUIREMENTS, "tags": {}}, "inbox")
    assert row["status"] == "ok" and "Ubuntu 24.04 HWE kernel" in row["detail"], row
    row = doctor_gpu.kernel_row({"kernel": "6.17.0-18-generic", "os": UBUNTU_2404, "packages": {}},
                                {"requirements": REQUIREMENTS, "tags": {}}, "inbox")
    assert row["status"] == "fail" and "at or above 6.17.0-19" in row["fix"], row


def test_matrix_and_summary():
    ok = [{"check": c, "status": "ok", "detail": "", "fix": ""} for c in doctor_checks.CHECKS]
    drifting = [dict(r, status="fail") if r["check"] in ("swap", "gpu_memory") else r for r in ok]
    boxes = {"strix-1": ok, "strix-2": drifting, "strix-3": None}
    lines = doctor_checks.matrix(boxes)
    assert lines[0].split()[:3] == ["box", "invent", "kernel"]
    assert lines[2].split()[0] == "strix-2" and lines[2].split().count("fail") == 2
    assert lines[3] == "strix-3 unreachable"
    assert doctor_checks.summary(boxes) == {"failed": True, "bad": [
        {"box": "strix-2", "failed": ["gpu_memory", "swap"]}, {"box": "strix-3", "failed": None}]}
    assert doctor_checks.summary({"strix-1": ok})["failed"] is False
    assert json.loads(json.dumps(boxes)) == boxes


@pytest.mark.parametrize("version,plugin,warned", [
    ("1.18.33", "oh-my-openagent@4.19.4", False),
    ("2.0.11", "oh-my-openagent@4.19.4", True),
    ("2.0.11", "", False),
    ("", "oh-my-openagent@4.19.4", False),
])
def test_an_opencode_2_cli_with_the_1x_plugin_is_a_warning(version, plugin, warned):
    assert bool(doctor_checks.cli_plugin_mismatch(version, plugin)) is warned
