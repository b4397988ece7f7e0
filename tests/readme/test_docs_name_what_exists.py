"""The README and ``docs/`` name only files that exist, and nothing in the repository names
a path of the machine it was written on (the reference harness is ``../shared/perf`` or
``EVENTGRAPH_PERF_DIR``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A file name in backticks: `app/cli/main.py`, `redis_bus.py`, `fetch_assets.sh`, ...
NAMED_FILE = re.compile(r"`([\w./-]+\.(?:py|md|graphql|sh|toml|lock|js|css|html))`")
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|root|home)/\w")
# benchmarks.md names the files of the shared reference harness, which is not in the repo.
HARNESS_PAGE = "docs/benchmarks.md"
VENDORED = ("graphql_schema/graphiql/assets/", "rest/docs_assets/", "uv.lock")


def _tracked() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return listing.stdout.splitlines()


def test_docs_name_only_files_that_exist() -> None:
    tracked = _tracked()
    pages = ["README.md", *(name for name in tracked if re.fullmatch(r"docs/[^/]+\.md", name))]
    missing = []
    for page in pages:
        if page == HARNESS_PAGE:
            continue
        for name in NAMED_FILE.findall((ROOT / page).read_text()):
            # Named by its path or by the end of it (`auth/tokens.py` under app/).
            if not any(path == name or path.endswith(f"/{name}") for path in tracked):
                missing.append(f"{page}: {name}")
    assert not missing


def test_no_machine_paths_in_the_repository() -> None:
    found = []
    for name in _tracked():
        if name.startswith(VENDORED) or name == "tests/readme/test_docs_name_what_exists.py":
            continue
        try:
            text = (ROOT / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        found += [f"{name}: {m.group(0)}" for m in MACHINE_PATH.finditer(text)]
    assert not found
