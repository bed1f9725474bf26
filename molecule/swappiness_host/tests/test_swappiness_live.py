"""On a host whose /proc/sys is writable, the role applies vm.swappiness live as well as in the file."""


def test_live_value_is_applied(host):
    assert host.file("/proc/sys/vm/swappiness").content_string.strip() == "37"


def test_value_is_persisted(host):
    content = host.file("/etc/sysctl.d/99-strix-opencode-test-swappiness.conf").content_string
    assert "vm.swappiness=37" in content.splitlines()
