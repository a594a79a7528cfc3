"""The reliability suite: the server as a service under load, provider faults, dropped clients and hostile input,
driven by the official MCP client against the real binary and the loopback fakes.

Sizes are modest by default (what CI runs); RLM_RELIABILITY_FULL=1 runs the full sizes the README reports. Every test
records its figures with `figures.add(...)`; they are printed at the end of the run and written to
`.reliability/figures.json`."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# The interop suite's fixtures (server launchers, fakes) are the one way to start things; load them under their own name.
_spec = importlib.util.spec_from_file_location("interop_conftest", REPO / "Tests" / "Interop" / "conftest.py")
interop = importlib.util.module_from_spec(_spec)
sys.modules["interop_conftest"] = interop
_spec.loader.exec_module(interop)

FULL = os.environ.get("RLM_RELIABILITY_FULL") == "1"


def size(modest, full):
    """`full` with RLM_RELIABILITY_FULL=1, else `modest`."""
    return full if FULL else modest


class Figures:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, section: str, name: str, value) -> None:
        self.rows.append((section, name, value if isinstance(value, str) else json.dumps(value)))


FIGURES = Figures()


@pytest.fixture
def figures() -> Figures:
    return FIGURES


@pytest.fixture
def anyio_backend():
    return "asyncio"


def pytest_terminal_summary(terminalreporter):
    if not FIGURES.rows:
        return
    terminalreporter.section(f"reliability figures ({'full' if FULL else 'modest'} size)")
    width = max(len(f"{s} / {n}") for s, n, _ in FIGURES.rows)
    for section, name, value in FIGURES.rows:
        terminalreporter.write_line(f"{(section + ' / ' + name).ljust(width)}  {value}")
    out = REPO / ".reliability"
    out.mkdir(exist_ok=True)
    (out / "figures.json").write_text(json.dumps([{"section": s, "name": n, "value": v} for s, n, v in FIGURES.rows], indent=2))
