"""The Hub stand-in speaks the real protocol: the real huggingface_hub client downloads from it."""
import hashlib
import os
import sys
from pathlib import Path

import huggingface_hub
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "support"))
from hf_hub_standin import HubStandin, StandinRepo  # noqa: E402  pylint: disable=wrong-import-position

BIG = os.urandom(2 * 1024 * 1024 + 7)
SMALL = b"tokenizer data\n"


def test_real_client_downloads_lfs_and_small_files_and_gated_ones(tmp_path):
    repos = {"org/m": StandinRepo({"model.gguf": BIG, "tokenizer.json": SMALL}),
             "org/g": StandinRepo({"model.gguf": BIG}, gated=True)}
    with HubStandin(repos, token="hf_tok") as hub:
        big = huggingface_hub.hf_hub_download("org/m", "model.gguf", endpoint=hub.url, cache_dir=tmp_path / "c")
        small = huggingface_hub.hf_hub_download("org/m", "tokenizer.json", endpoint=hub.url, cache_dir=tmp_path / "c")
        gated = huggingface_hub.hf_hub_download("org/g", "model.gguf", endpoint=hub.url, token="hf_tok",
                                                cache_dir=tmp_path / "g")
        with pytest.raises(huggingface_hub.errors.GatedRepoError):
            huggingface_hub.hf_hub_download("org/g", "model.gguf", endpoint=hub.url, token=False,
                                            cache_dir=tmp_path / "n")
        with pytest.raises(huggingface_hub.errors.RepositoryNotFoundError):
            huggingface_hub.hf_hub_download("org/none", "model.gguf", endpoint=hub.url, cache_dir=tmp_path / "n")
        with pytest.raises(huggingface_hub.errors.EntryNotFoundError):
            huggingface_hub.hf_hub_download("org/m", "nope.gguf", endpoint=hub.url, cache_dir=tmp_path / "n")
    assert hashlib.sha256(Path(big).read_bytes()).digest() == hashlib.sha256(BIG).digest()
    assert Path(small).read_bytes() == SMALL and Path(gated).read_bytes() == BIG
    assert Path(big).parent.name == repos["org/m"].commit  # the client read X-Repo-Commit
