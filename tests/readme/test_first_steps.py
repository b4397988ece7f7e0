"""The README's "First steps", run as written: its shell blocks in bash (``./dev`` included)
and its Python subscriber, against a real ``eventgraph serve``. Only the address changes
(``localhost:8000`` becomes the test server's) and the secret the README asks the reader to
copy is copied from the printed output."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import metric, served

# A server start and a dozen CLI calls on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(400)

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "change-me"  # the README's
SECRET_LINE = "export SECRET=eg_..."
WAIT = 60.0


def _first_steps() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme.split("## First steps", 1)[1].split("\n## ", 1)[0]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _first_steps(), re.DOTALL)


@pytest.fixture
def readme_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    with served(database_url, tmp_path / "server.log", EVENTGRAPH_ADMIN_TOKEN=ADMIN_TOKEN) as base:
        yield base


def _localize(text: str, base: str) -> str:
    port = base.rsplit(":", 1)[1]
    return re.sub(r"(localhost|127\.0\.0\.1):8000", f"127.0.0.1:{port}", text)


def _bash(script: str, database_url: str) -> str:
    env = {**os.environ, "EVENTGRAPH_DATABASE_URL": database_url}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout lines, read by a thread so that the test can wait with a bound."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], needle: str) -> str:
    seen = []
    while True:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"{needle!r} never came; got {seen}")
        seen.append(line)
        if needle in line:
            return line


def _subscribers(base: str) -> float:
    return metric(base, "eventgraph_stream_subscribers")


def _publish(base: str, secret: str, symbol: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/channels/market-signals/events",
        headers={"Authorization": f"Bearer {secret}"},
        json={"type": "price.update", "data": {"symbol": symbol, "price": 1.0}},
        timeout=10,
    )
    response.raise_for_status()
    event_id: str = response.json()["id"]
    return event_id


def _stream(command: list[str], base: str) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """Starts a streaming client of the README and returns once the server counts it."""
    before = _subscribers(base)
    env = {**os.environ, "EVENTGRAPH_ADMIN_TOKEN": ADMIN_TOKEN}
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so that _stop ends bash and its curl together
    )
    lines = _lines(process)
    deadline = time.monotonic() + WAIT
    while _subscribers(base) <= before:
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"{command[:2]} did not subscribe: {list(lines.queue)}")
        time.sleep(0.2)
    return process, lines


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_first_steps_run_as_written(readme_server: str, database_url: str, tmp_path: Path) -> None:
    base = readme_server
    shell = [_localize(block, base) for block in _blocks("sh")]
    serve_block, setup_block, *steps = shell
    assert "./dev serve" in serve_block  # the fixture runs that server
    assert SECRET_LINE in setup_block

    # Set-up: the CLI on the same database, then the secret "copied" from its output.
    before_secret, after_secret = setup_block.split(SECRET_LINE)
    setup = _bash(before_secret, database_url)
    secret = re.search(r"secret \(shown only once\): (eg_\S+)", setup)
    assert secret, setup
    prefix = f"export EVENTGRAPH_ADMIN_TOKEN={ADMIN_TOKEN}\nexport SECRET={secret[1]}\n"
    _bash(prefix + after_secret, database_url)

    # Steps 1-4 (the last block is the SSE one): publish, poll, GraphQL, REST.
    publish, poll, graphql, rest, sse = steps
    published = _bash(prefix + publish, database_url)
    event_id = re.search(r'"id":"(\w{26})"', published)
    assert event_id, published
    for step in (poll, graphql, rest):
        assert event_id[1] in _bash(prefix + step, database_url)

    # Step 5: each SSE command, then the Python subscriber, see an event published later.
    commands = re.sub(r"\\\n\s*", " ", sse).splitlines()
    for command in [line for line in commands if line.startswith("curl")]:
        process, lines = _stream(["bash", "-c", prefix + command], base)
        try:
            live = _publish(base, secret[1], "ETH")
            _wait_for(lines, f"id: {live}")
        finally:
            _stop(process)
    (watch,) = _blocks("python")
    script = tmp_path / "watch.py"
    script.write_text(_localize(watch, base))
    process, lines = _stream([sys.executable, str(script)], base)
    try:
        _wait_for(lines, event_id[1])  # the snapshot
        live = _publish(base, secret[1], "SOL")
        _wait_for(lines, live)
    finally:
        _stop(process)
