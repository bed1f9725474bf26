"""vm.swappiness is persisted in sysctl.d (the live apply is tested by the swappiness_host scenario: a
container's /proc/sys is read-only)."""


def test_sysctl_file_holds_the_value_once(host):
    lines = host.file("/etc/sysctl.d/99-swappiness.conf").content_string.splitlines()
    assert [line for line in lines if "swappiness" in line] == ["vm.swappiness=80"]


def test_sysctl_file_is_root_owned_and_readable(host):
    # systemd-sysctl reads it at boot as root; a file others can write would let them set kernel values.
    conf = host.file("/etc/sysctl.d/99-swappiness.conf")
    assert conf.user == "root" and conf.group == "root" and conf.mode == 0o644
