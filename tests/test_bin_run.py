"""``bin/run`` itself, started again and again as an organiser does on a party day.

Each run is the real script (setup, migrate, seed_demo, the demo session on GENKI-4K
photos, daphne) on a database file of the test's own; the test waits until daphne
listens, fetches the booth page and the demo's share link, then stops the server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests import factories
from tests.daphne import ROOT, free_port, server_env

RUN = ROOT / "bin" / "run"


def start(folder: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``bin/run args`` and wait until it serves; the process and its output so far."""
    log = folder / f"run-{time.monotonic_ns()}.log"
    environment = server_env(
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}", MEDIA_ROOT=str(folder / "media")
    )
    for name in ("DEBUG", "DJANGO_SETTINGS_MODULE", "HOST", "PORT", "SITE_URL", "ALLOWED_HOSTS"):
        environment.pop(name, None)
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [str(RUN), *args], cwd=ROOT, env=environment | env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 300  # the first run may install requirements.txt
    while "Listening on" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"bin/run did not serve:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return process, log.read_text()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310  (our server)
        return int(response.status)


def printed(label: str, out: str, value: str = r":\s+(\S+)") -> str:
    match = re.search(rf"^{label}{value}", out, re.MULTILINE)
    assert match, f"no {label} in:\n{out}"
    return match.group(1)


def test_bin_run_serves_on_every_start_and_keeps_the_booth_paired(tmp_path):
    if len(factories.genki_photos(4)) < 4:
        pytest.skip("../shared/data/genki4k-dev is not beside this checkout")
    numbers, tokens = [], []
    for run in range(5):
        port = free_port()
        # --port and the PORT variable, in turn: the links follow both.
        args, env = (("--port", str(port)), {}) if run % 2 else ((), {"PORT": str(port)})
        process, out = start(tmp_path, *args, **env)
        try:
            site = f"http://127.0.0.1:{port}"
            assert status(f"{site}/booth/") == 200
            share = printed("Share URL", out)
            assert share.startswith(f"{site}/s/")
            assert status(share) == 200
            assert printed("Booth page", out).startswith(f"{site}/booth/#pair=pair_")
            assert printed("Event gallery", out).startswith(f"{site}/g/")
            assert "Submitted" in out
        finally:
            stop(process)
        numbers.append(printed("Texting the fictional number", out, r" (\+\d+)"))
        tokens.append(printed("Booth token", out))
    assert len(set(numbers)) == 5
    assert tokens[0].startswith("bth_")
    assert tokens[1:] == ["unchanged"] * 4


def test_bin_run_refuses_a_bad_port():
    result = subprocess.run(  # noqa: S603
        [str(RUN), "--port", "eighty"], cwd=ROOT, capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "the port must be a number from 1 to 65535" in result.stderr
    assert "--lan" in result.stderr  # the usage follows
