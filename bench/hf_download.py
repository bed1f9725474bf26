"""Benchmark of strix.opencode.hf_download against the Hub stand-in (tests/support/hf_hub_standin.py).

Prints:
  1. download throughput of the module vs curl to /dev/null (and to a file) vs huggingface_hub.hf_hub_download, over
     loopback unpaced and paced like 2.5, 5 and 10 Gbit/s links (target: >= 90 % of curl)
  2. the no-op re-run time of the module vs ansible.builtin.get_url with checksum (which re-hashes the file every
     run), at 1 GiB and at 16 MiB (target: >= 20x faster at 1 GiB, and independent of the file's size)
  3. the bytes fetched twice after the connection drops at 50 % (target: < 1 % of the file)

Usage: .venv/bin/python bench/hf_download.py [--size-mib 1024] [--rounds 3] [--link-mib 298 596 1192]
"""
import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "pytest-collections"))
STANDIN = ROOT / "tests" / "support" / "hf_hub_standin.py"
REPO, FILE = "bench/blob", "blob.gguf"


def collection_link():
    link = ROOT / ".cache" / "pytest-collections" / "ansible_collections" / "strix" / "opencode"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT, target_is_directory=True)


def make_blob(path, size):
    if path.exists() and path.stat().st_size == size:
        return
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as out:
        for index in range(size // len(block)):
            out.write(hashlib.sha256(block + index.to_bytes(8, "little")).digest() * 32768)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, blob, drop_after=None, rate=None):
        self.port = free_port()
        cmd = [sys.executable, str(STANDIN), "--port", str(self.port), "--file", "%s:%s=%s" % (REPO, FILE, blob)]
        if drop_after:
            cmd += ["--drop-after", str(drop_after)]
        if rate:
            cmd += ["--rate-mib", str(rate)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.proc.stdout.readline()  # hashes the file first, then says it is listening
        self.url = "http://127.0.0.1:%d" % self.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


def timed(fn):
    """Seconds fn() took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fetch(url, dest):
    from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import Fetch, HubClient
    return Fetch(HubClient(url), REPO, FILE, "main", str(dest)).run()


def playbook_task_seconds(work, tasks, repeat):
    """Run the tasks ({name: yaml}) in turns, repeat times each, in one ansible-playbook run.

    Return {name: median task seconds} from the json callback's task durations, and the last result of each.
    """
    lines = ["- hosts: localhost", "  gather_facts: false", "  tasks:"]
    for index in range(repeat):
        for name, task_yaml in tasks.items():
            lines += ["    - name: %s %d" % (name, index), task_yaml]
    play = work / "play.yml"
    play.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_LOCALHOST_WARNING="false")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=%s" % sys.executable, str(play)],
                          capture_output=True, text=True, env=env, check=True)
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    seconds, results = {name: [] for name in tasks}, {}
    for task in report["plays"][0]["tasks"]:
        name = task["task"]["name"].rsplit(" ", 1)[0]
        duration = task["task"]["duration"]
        seconds[name].append((datetime.strptime(duration["end"], fmt)
                              - datetime.strptime(duration["start"], fmt)).total_seconds())
        results[name] = task["hosts"]["localhost"]
    return {name: statistics.median(values) for name, values in seconds.items()}, results


def noop_times(work, blob, size, repeat):
    """Median task seconds of the module and of get_url re-run over a file in place, the module's own seconds,
    and the median task seconds of a trivial module (stat) for Ansible's per-task cost."""
    digest = hashlib.sha256()
    with open(blob, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    with Server(blob) as server:
        dest = work / ("noop-%d" % size)
        dest.mkdir(exist_ok=True)
        fetch(server.url, dest / FILE)
        seconds, results = playbook_task_seconds(work, {
            "module": "      strix.opencode.hf_download:\n        repo_id: %s\n        filename: %s\n"
                      "        dest: %s\n        endpoint: %s" % (REPO, FILE, dest / FILE, server.url),
            "get_url": "      ansible.builtin.get_url:\n        url: %s/%s/resolve/main/%s\n        dest: %s\n"
                       "        checksum: sha256:%s" % (server.url, REPO, FILE, dest / FILE, digest.hexdigest()),
            "stat": "      ansible.builtin.stat:\n        path: %s\n        get_checksum: false" % (dest / FILE),
        }, repeat)
        assert not results["module"]["changed"] and not results["get_url"]["changed"]
    return seconds["module"], seconds["get_url"], results["module"]["seconds"], seconds["stat"]


DOWNLOADS = {"curl": "curl to /dev/null", "curl_file": "curl to a file", "module": "hf_download module",
             "hub": "huggingface_hub"}


def throughput(work, blob, size, rounds, rate):
    """Seconds of each download, --rounds times in turns, from a stand-in paced at rate MiB/s (None: unpaced).

    Each download first runs once untimed and its output is removed just before the timed run: on a virtual
    machine, writing into memory the guest has handed back to its host costs more than the download itself
    and varies from run to run; this way every timed run writes into memory the guest holds, as on a real box.
    """
    import huggingface_hub
    runs = {name: [] for name in DOWNLOADS}
    curl_out, module_dir, hub_dir = work / "curl.out", work / "m", work / "hfcache"

    def clear():
        for leftover in (curl_out, module_dir, hub_dir):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            elif leftover.exists():
                leftover.unlink()
    with Server(blob, rate=rate) as server:
        url = "%s/%s/resolve/main/%s" % (server.url, REPO, FILE)
        downloads = {
            "curl": lambda: subprocess.run(["curl", "-sSL", "-o", "/dev/null", url], check=True),
            "curl_file": lambda: subprocess.run(["curl", "-sSL", "-o", str(curl_out), url], check=True),
            "module": lambda: fetch(server.url, module_dir / FILE),
            "hub": lambda: huggingface_hub.hf_hub_download(REPO, FILE, endpoint=server.url, cache_dir=str(hub_dir)),
        }
        for dummy in range(rounds):
            for name, download in downloads.items():
                clear()
                download()
                os.sync()
                clear()
                runs[name].append(timed(download))
                if name == "module":
                    assert (module_dir / FILE).stat().st_size == size
        clear()
    return runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--link-mib", type=float, nargs="*", default=[298.0, 596.0, 1192.0],
                        help="also measure with the stand-in paced at these MiB/s (default: 2.5, 5 and 10 Gbit/s)")
    args = parser.parse_args()
    collection_link()
    size = args.size_mib * 1024 * 1024
    work = Path(tempfile.mkdtemp(prefix="strix-bench-", dir="/var/tmp"))
    try:
        blob = work / "blob.bin"
        make_blob(blob, size)
        os.sync()
        gib = size / 2 ** 30

        # 1. Throughput, over loopback as fast as the machine goes, then paced like real links.
        print("1. throughput at %.2f GiB, median of %d rounds (the module writes the file and verifies its sha256 while"
              " it downloads; curl to /dev/null does neither):" % (gib, args.rounds))
        for rate in [None] + args.link_mib:
            runs = throughput(work, blob, size, args.rounds, rate)
            curl_s, curl_file_s, module_s = (statistics.median(runs[k]) for k in ("curl", "curl_file", "module"))
            print("   %s:" % ("loopback, unpaced" if rate is None else "link paced at %.0f MiB/s (%.1f Gbit/s)"
                              % (rate, rate * 2 ** 20 * 8 / 1e9)))
            for name, label in DOWNLOADS.items():
                seconds = statistics.median(runs[name])
                spread = ", ".join("%.0f" % (size / 2 ** 20 / s) for s in runs[name])
                print("     %-21s %7.1f MiB/s  (%.2f s; runs: %s)" % (label, size / 2 ** 20 / seconds, seconds, spread))
            print("     -> module = %.0f %% of curl to /dev/null (target >= 90 %%), %.0f %% of curl to a file"
                  % (100 * curl_s / module_s, 100 * curl_file_s / module_s))

        # 2. No-op re-runs, at the full size and at 16 MiB.
        module_big, get_url_big, own_big, trivial = noop_times(work, blob, size, args.rounds + 2)
        small = work / "small.bin"
        make_blob(small, 16 * 1024 * 1024)
        module_small, get_url_small, own_small = noop_times(work, small, 16 * 1024 * 1024, args.rounds + 2)[:3]
        print("2. no-op re-run (median task times of %d runs each, from ansible-playbook's json callback):"
              % (args.rounds + 2))
        print("   %.2f GiB: hf_download task %.3f s (its own work %.4f s), get_url with checksum task %.3f s"
              % (gib, module_big, own_big, get_url_big))
        print("             -> %.1fx faster by task time (target >= 20x); a trivial task (stat) costs %.3f s here,"
              " so beyond Ansible's per-task cost: %.4f s vs %.3f s = %.0fx"
              % (get_url_big / module_big, trivial, max(module_big - trivial, own_big), get_url_big - trivial,
                 (get_url_big - trivial) / max(module_big - trivial, own_big)))
        print("   16 MiB:   hf_download task %.3f s (its own work %.4f s), get_url with checksum task %.3f s"
              " (the module's time does not grow with the size; get_url's does)" % (module_small, own_small, get_url_small))

        # 3. A drop at 50 %.
        half = size // 2
        dest = work / "d" / FILE
        from ansible_collections.strix.opencode.plugins.module_utils.hf_hub import HubError
        with Server(blob, drop_after=half) as server:
            message = None
            try:
                fetch(server.url, dest)
            except HubError as exc:
                message = str(exc).split(";", maxsplit=1)[0]
            if message is None:
                raise SystemExit("the stand-in did not drop the connection")
            kept = (work / "d" / (FILE + ".part")).stat().st_size
            print("3. connection dropped at %d bytes: %s" % (half, message))
            result = fetch(server.url, dest)
        twice = max(kept + result["bytes_transferred"] - size, 0)
        print("   kept %d bytes; the next run fetched %d bytes; fetched twice: %d bytes = %.4f %% of the file"
              " (target < 1 %%)" % (kept, result["bytes_transferred"], twice, 100.0 * twice / size))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
