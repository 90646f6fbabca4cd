"""A real Frappe web server on loopback for the bench tier's HTTP and browser tests: Frappe's WSGI
application and its static files, in a process of its own (its own database connections), as
`bench serve` runs it but bound to 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_site(site: str, sites_path: str, port: int | None = None) -> Iterator[str]:
    """The site's base URL while the server runs; its log is printed if it fails to start."""
    port = port or free_port()
    log = tempfile.NamedTemporaryFile(prefix="ml-web-", suffix=".log", delete=False)
    server = subprocess.Popen([sys.executable, "-m", "mexico_localization.tests.web_server", site, str(port)],
                              cwd=sites_path, env={**os.environ, "CI": "1"}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server, log.name)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        os.unlink(log.name)


def _wait_until_up(url: str, server: subprocess.Popen, log: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/api/method/ping", timeout=5).ok:
                return
        time.sleep(0.5)
    with open(log, encoding="utf-8", errors="replace") as handle:
        raise RuntimeError(f"the test web server did not start:\n{handle.read()[-4000:]}")


def main() -> None:
    import frappe.app
    from werkzeug.serving import run_simple

    site, port = sys.argv[1], int(sys.argv[2])
    frappe.app._site, frappe.app._sites_path = site, "."
    run_simple("127.0.0.1", port, frappe.app.application_with_statics(), threaded=True, use_reloader=False,
               use_debugger=False)


if __name__ == "__main__":
    main()
