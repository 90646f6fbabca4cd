"""The sandbox FacturaAPI of a demo site: the emulator in a background process of its own, its pid,
port and log in a folder of the site, found again by later commands. No Frappe here."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

DEFAULT_PORT = 8787
STATE_DIR = "mexico_localization_demo"


@dataclass(frozen=True)
class Sandbox:
    """What a command can say of the site's sandbox: its URL, its process, whether it answers."""
    url: str
    pid: int | None
    answers: bool
    log: Path


def folder(site_path: str | Path) -> Path:
    return Path(site_path) / STATE_DIR


def _read(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text().strip()
    return ""


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError):  # our own child that ended: reaped, not a zombie
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    """The emulator's control route: only the emulator has it, so a real server is never mistaken for it."""
    with contextlib.suppress(requests.RequestException, ValueError):
        return requests.get(f"{url.removesuffix('/v2')}/_emulator/state", timeout=2).ok
    return False


def status(site_path: str | Path) -> Sandbox:
    here = folder(site_path)
    port = _read(here / "emulator.port") or str(DEFAULT_PORT)
    pid = int(_read(here / "emulator.pid") or 0) or None
    url = f"http://127.0.0.1:{port}/v2"
    return Sandbox(url, pid if _alive(pid) else None, _answers(url), here / "emulator.log")


def start(site_path: str | Path, port: int | None = None, wait: float = 30.0) -> Sandbox:
    """The running sandbox, or a new one on `port` (default 8787), bound to loopback; detached from
    the command, so it outlives it."""
    current = status(site_path)
    if current.answers and (port is None or current.url.endswith(f":{port}/v2")):
        return current
    if current.pid:
        stop(site_path)
    here = folder(site_path)
    here.mkdir(parents=True, exist_ok=True)
    port = port or DEFAULT_PORT
    with open(here / "emulator.log", "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "mexico_localization.testing.emulator", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    (here / "emulator.pid").write_text(str(process.pid))
    (here / "emulator.port").write_text(str(port))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = status(site_path)
        if found.answers:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the sandbox did not start on port {port}; see {here / 'emulator.log'}")


def stop(site_path: str | Path) -> bool:
    """Stops the site's sandbox; False when none ran."""
    here = folder(site_path)
    pid = int(_read(here / "emulator.pid") or 0) or None
    if not _alive(pid):
        (here / "emulator.pid").unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    (here / "emulator.pid").unlink(missing_ok=True)
    return True
