"""``eventgraph --help`` and the light commands start quickly: nothing heavy is imported
until a command runs (measured before and after in docs/cli.md)."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "fastapi", "strawberry", "uvicorn", "alembic", "asyncpg", "app.main")
EVENTGRAPH = Path(sys.executable).parent / "eventgraph"

PROBE = """
import sys
from app.cli.main import cli
try:
    cli(sys.argv[1:])
except SystemExit:
    pass
heavy = [name for name in {heavy!r} if name in sys.modules]
print("HEAVY", ",".join(heavy))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["token", "create", "--help"], ["purge", "--help"], ["import", "--help"]]
)
def test_help_imports_no_server_or_database_module(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Usage:" in result.stdout
    assert result.stdout.rstrip().endswith("HEAVY"), result.stdout.splitlines()[-1]


@pytest.mark.parametrize("args", [["--help"], ["token", "create", "--help"]])
def test_help_answers_within_a_generous_bound(args: list[str]) -> None:
    # CPU seconds, which a loaded machine inflates far less than wall time. On an idle core:
    # 0.1 s for --help, 0.25 s for a sub-command's (typer imports pydantic to read its
    # options); importing the app up front, as before, costs 1.5-1.9 s more.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([str(EVENTGRAPH), *args], capture_output=True, check=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 1.0, f"{cpu:.2f} s of CPU"
    assert wall < 10.0, f"{wall:.2f} s"


def test_dev_help_lists_every_eventgraph_command() -> None:
    root = Path(__file__).resolve().parents[2]
    shown = subprocess.run(
        [str(root / "dev"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    commands = ("serve", "migrate", "schema", "token", "workspace", "channel", "export")
    for command in (*commands, "import", "purge", "seed"):
        assert re.search(rf"^\s+{command}\s", shown, re.MULTILINE), command
