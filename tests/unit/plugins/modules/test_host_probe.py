"""host_probe reads a fixture tree of kernel and hardware files, and the box's own live state."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.strix.opencode.plugins.modules import host_probe

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
import gpu_fixture  # noqa: E402  pylint: disable=wrong-import-position

GIB = 1024 ** 3


def test_a_box_booted_with_the_kernel_driver(tmp_path):
    root = str(tmp_path / "box")
    gpu_fixture.build(root, "6.18.5-061805-generic", 124, "inbox", booted=True)
    probe = host_probe.probe(root)
    assert probe["kernel"] == "6.18.5-061805-generic"
    assert "ttm.pages_limit=32505856" in probe["cmdline"] and "amd_iommu=off" in probe["cmdline"]
    assert probe["modules"] == ["amdgpu", "ttm"]
    assert probe["module_params"] == {"ttm": {"pages_limit": 32505856, "page_pool_size": 32505856}}
    assert probe["gtt_bytes"] == 124 * GIB and probe["vram_bytes"] == 512 * 1024 * 1024
    assert probe["gpu"] == [{"card": "card1", "gtt_bytes": 124 * GIB, "vram_bytes": 512 * 1024 * 1024}]
    assert probe["packages"] == {"linux-firmware": "20260110.git0a1b2c3d-0ubuntu1"}
    assert probe["devices"]["kfd"]["exists"] and probe["devices"]["kfd"]["chr"]
    assert probe["devices"]["kfd"]["group"] == "render"
    assert [n["path"] for n in probe["devices"]["render_nodes"]] == ["/dev/dri/renderD128"]


def test_a_dkms_box_shows_amdttm_and_the_package(tmp_path):
    root = str(tmp_path / "box")
    gpu_fixture.build(root, "6.8.0-60-generic", 62, "dkms", booted=True, cmdline_modules=["ttm"])
    probe = host_probe.probe(root)
    assert "amdttm" in probe["modules"]
    assert set(probe["module_params"]) == {"ttm", "amdttm"}
    assert probe["packages"]["amdgpu-dkms"] == "1:6.16.6.60404-9999"
    assert not [w for w in probe["cmdline"] if w.startswith("amdttm.")]
    assert probe["gtt_bytes"] == 62 * GIB


def test_an_empty_root_reads_as_nothing(tmp_path):
    probe = host_probe.probe(str(tmp_path))
    assert probe["kernel"] is None and probe["cmdline"] == [] and probe["modules"] == []
    assert probe["gtt_bytes"] is None and probe["gpu"] == [] and probe["packages"] == {}
    assert probe["devices"]["kfd"]["exists"] is False and probe["devices"]["render_nodes"] == []


def test_dpkg_status_counts_only_installed_packages():
    text = ("Package: linux-firmware\nStatus: deinstall ok config-files\nVersion: 1\n\n"
            "Package: amdgpu-dkms\nStatus: install ok installed\nDescription: x\n more\nVersion: 2\n")
    assert host_probe.read_packages(text) == {"amdgpu-dkms": "2"}


def _record(path, **change):
    st = os.stat(path)
    record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": "0" * 64}
    record.update(change)
    with open(os.path.join(os.path.dirname(path), ".%s.hf.json" % os.path.basename(path)), "w") as handle:
        json.dump(record, handle)


def test_models_are_verified_by_their_download_records(tmp_path):
    good, grown, bare = (tmp_path / n for n in ("good.gguf", "grown.gguf", "bare.gguf"))
    for path in (good, grown, bare):
        path.write_bytes(b"GGUF" * 10)
    _record(str(good))
    _record(str(grown), size=4)
    snapshot = tmp_path / "snap"
    (snapshot / "sub").mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (snapshot / "sub" / "w.safetensors").write_text("w")
    _record(str(snapshot / "config.json"))
    models = dict((m["path"], m) for m in host_probe.read_models(
        [str(good), str(grown), str(bare), str(tmp_path / "gone.gguf"), str(snapshot)]))
    assert models[str(good)]["verified"] and models[str(good)]["reason"] == ""
    assert not models[str(grown)]["verified"] and "the download record says 4" in models[str(grown)]["reason"]
    assert models[str(bare)]["reason"] == "no download record"
    assert not models[str(tmp_path / "gone.gguf")]["exists"]
    assert not models[str(snapshot)]["verified"] and "sub/w.safetensors: no download record" in models[str(snapshot)]["reason"]
    _record(str(snapshot / "sub" / "w.safetensors"))
    assert host_probe.read_models([str(snapshot)])[0]["verified"]


def test_processes_are_found_by_name_with_their_arguments():
    child = subprocess.Popen(["sleep", "37.5"])
    comm = "/proc/%d/comm" % child.pid
    try:
        # Popen returns once the child is forked; wait for it to be running sleep before looking.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(comm) as handle:
                if handle.read().strip() == "sleep":
                    break
            time.sleep(0.01)
        found = host_probe.read_processes(["sleep"])["sleep"]
    finally:
        child.kill()
        child.wait()
    assert ["sleep", "37.5"] in found


def test_the_module_refuses_a_root_that_is_not_a_directory(run_module, tmp_path):
    result = run_module(host_probe, root=str(tmp_path / "nowhere"))
    assert result["failed"] and "is not a directory" in result["msg"]


def test_the_module_returns_the_probe_and_changes_nothing(run_module, tmp_path):
    root = str(tmp_path / "box")
    gpu_fixture.build(root, "6.18.5-061805-generic", 96, "inbox", booted=True)
    result = run_module(host_probe, root=root, users=["root"], processes=["nonesuch"], _ansible_check_mode=True)
    assert result["changed"] is False
    assert result["probe"]["gtt_bytes"] == 96 * GIB
    assert "root" in result["probe"]["groups"]["root"]
    assert result["probe"]["processes"] == {"nonesuch": []}
    assert isinstance(result["probe"]["swaps"], list) and isinstance(result["probe"]["swappiness"], int)
