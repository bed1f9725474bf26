"""ansible-builder makes the execution environment's build context (the image cannot be built here)."""
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_ansible_builder_creates_the_build_context(tmp_path):
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "ee", tmp_path / "ee", ignore=shutil.ignore_patterns("*.tar.gz"))
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    shutil.copy(next((tmp_path / "dist").glob("strix-opencode-*.tar.gz")), tmp_path / "ee" / "strix-opencode.tar.gz")

    proc = subprocess.run([str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml",
                           "-c", "context", "--output-filename", "Containerfile"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert "COPY _build /build\nWORKDIR /build" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [c["name"] for c in galaxy["collections"]]
    assert names[0] == "/build/collections/strix-opencode.tar.gz" and "community.docker" in names
    assert "jmespath" in (context / "_build" / "requirements.txt").read_text()
    with tarfile.open(context / "_build" / "collections" / "strix-opencode.tar.gz") as tar:
        manifest = tar.extractfile("MANIFEST.json").read().decode()
    assert '"name": "opencode"' in manifest and '"namespace": "strix"' in manifest
