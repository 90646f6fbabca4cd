"""The demo's sandbox process: started in the background, found again by a later command (reused,
not doubled), told apart from anything else on its port, and stopped."""

from __future__ import annotations

import socket

import requests

from mexico_localization.demo import sandbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_sandbox_starts_once_answers_and_stops(tmp_path):
    port = free_port()
    assert not sandbox.status(tmp_path).answers
    first = sandbox.start(tmp_path, port)
    try:
        assert first.answers and first.pid and first.url == f"http://127.0.0.1:{port}/v2"
        assert requests.get(f"http://127.0.0.1:{port}/_emulator/state", timeout=5).ok
        again = sandbox.start(tmp_path)  # a second `demo start`: the same process
        assert again.pid == first.pid
        assert (tmp_path / sandbox.STATE_DIR / "emulator.pid").read_text() == str(first.pid)
    finally:
        assert sandbox.stop(tmp_path)
    assert not sandbox.status(tmp_path).answers
    assert sandbox.status(tmp_path).pid is None
    assert not sandbox.stop(tmp_path)


def test_another_server_on_the_port_is_not_taken_for_the_sandbox(tmp_path):
    port = free_port()
    with socket.socket() as other:  # something that accepts connections but is not the emulator
        other.bind(("127.0.0.1", port))
        other.listen()
        (tmp_path / sandbox.STATE_DIR).mkdir()
        (tmp_path / sandbox.STATE_DIR / "emulator.port").write_text(str(port))
        assert not sandbox.status(tmp_path).answers
