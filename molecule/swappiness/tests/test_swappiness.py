"""vm.swappiness is persisted in sysctl.d; the read-only /proc/sys of a container is left alone."""


def test_sysctl_file_holds_the_value_once(host):
    lines = host.file("/etc/sysctl.d/99-swappiness.conf").content_string.splitlines()
    assert [line for line in lines if "swappiness" in line] == ["vm.swappiness=80"]


def test_proc_sys_is_read_only_here(host):
    # The premise of this scenario: the role must have skipped the live apply, not failed on it.
    assert host.run("test -w /proc/sys/vm/swappiness").rc != 0
