"""earlyoom runs under systemd with the rendered thresholds and patterns."""


def test_earlyoom_is_enabled_and_running(host):
    service = host.service("earlyoom")
    assert service.is_enabled
    assert service.is_running


def test_args_file_holds_the_rendered_values(host):
    content = host.file("/etc/default/earlyoom").content_string
    assert 'EARLYOOM_ARGS="-m 5 -s 100 -r 3600 --prefer ^(llama-server|VLLM::EngineCor|vllm)$ ' in content


def test_the_running_process_uses_them(host):
    pid = host.check_output("systemctl show --property=MainPID --value earlyoom")
    argv = host.file(f"/proc/{pid}/cmdline").content_string.split("\0")
    assert argv[argv.index("-m") + 1] == "5"
    assert argv[argv.index("-s") + 1] == "100"
    assert argv[argv.index("--prefer") + 1] == "^(llama-server|VLLM::EngineCor|vllm)$"
    assert argv[argv.index("--avoid") + 1].startswith("^(init|systemd|")
