"""``eventgraph --help`` and the light commands start quickly: nothing heavy is imported
until a command runs (measured before and after in docs/benchmarks.md)."""

from __future__ import annotations

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


def test_help_answers_within_a_generous_bound() -> None:
    # Well under a second on an idle machine; the bound leaves room for a heavily loaded
    # one (before lazy imports: 12-15 s at load 3, 25-50 s at load 17).
    started = time.monotonic()
    subprocess.run([str(EVENTGRAPH), "--help"], capture_output=True, check=True)
    assert time.monotonic() - started < 10.0
