"""The converged swap file: active at its size, root-only, in fstab, never half-written."""

SWAP = "/srv/scratch/swap.img"
SIZE_MB = 64


def test_swap_file_is_active_at_its_size(host):
    rows = [line.split() for line in host.file("/proc/swaps").content_string.splitlines()[1:]]
    active = {row[0]: row for row in rows}
    assert SWAP in active, f"{SWAP} not in /proc/swaps: {rows}"
    # /proc/swaps counts KiB and leaves out the header page.
    assert int(active[SWAP][2]) == SIZE_MB * 1024 - 4


def test_swap_file_is_readable_by_root_only(host):
    f = host.file(SWAP)
    assert f.size == SIZE_MB * 1024 * 1024
    assert f.user == "root"
    assert f.mode == 0o600


def test_swap_file_is_in_fstab_once(host):
    entries = [line.split() for line in host.file("/etc/fstab").content_string.splitlines()
               if line.strip() and not line.startswith("#")]
    assert [e for e in entries if e[0] == SWAP] == [[SWAP, "none", "swap", "sw", "0", "0"]]


def test_no_staging_file_left(host):
    assert not host.file(SWAP + ".part").exists
