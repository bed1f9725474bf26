"""The engine installed from the distribution, with the Python SDK and the group; not started here."""


def test_engine_and_sdk_are_installed(host):
    assert host.package("docker.io").is_installed
    assert host.run("python3 -c 'import docker'").rc == 0


def test_the_engine_unit_is_installed(host):
    unit = host.file("/lib/systemd/system/docker.service")
    assert unit.exists and "dockerd" in unit.content_string


def test_the_user_is_in_the_docker_group(host):
    assert "docker" in host.user("dev").groups


def test_no_start_was_tried_when_told_not_to(host):
    # docker_service_running: false. A nested dockerd cannot run here (iptables without NET_ADMIN, overlayfs
    # on overlayfs), so the behaviour to check is that neither the package's scripts nor the role tried:
    # systemd's journal records every start job of the unit, failed or not.
    print("docker scenario: engine installed and unit file present; not started (nested engine cannot run)")
    journal = host.run("journalctl -u docker.service -u docker.socket --no-pager -o cat")
    assert journal.rc == 0
    assert "Starting" not in journal.stdout and "Failed" not in journal.stdout, journal.stdout


def test_apt_removed_its_start_blocker(host):
    # policy-rc.d (exit 101) blocks service starts during the install only; left behind, it would stop
    # every later package from starting its service.
    assert not host.file("/usr/sbin/policy-rc.d").exists
