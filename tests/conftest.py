"""Shared fixtures: the bundled seeds, their gold, and renderings of the gold into real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "eval_sets" / "seeds").glob("*.gold.json"))
SHARED = ROOT.parent / "shared"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m extractor <args>`` as a user runs it: a real subprocess, its output as text."""
    return subprocess.run([sys.executable, "-m", "extractor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


# the PDF variants draw the same tables' rules as Word, cell-by-cell converters and spreadsheets do
FORMATS = ("docx", "xlsx", "pdf", "lines.pdf", "boxes.pdf", "sheet.pdf", "md", "flat.txt")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every seed gold rendered to every format of FORMATS (made once per session)."""
    from evalkit.fixtures import render_all

    out = tmp_path_factory.mktemp("rendered")
    made = {}
    for g in SEEDS:
        stem = g.name.removesuffix(".gold.json")
        for fmt, p in render_all(load(g), out, FORMATS, stem=stem).items():
            made[(stem, fmt)] = p
    return made


@pytest.fixture(scope="session", autouse=True)
def _ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """OCR page cache in a temporary directory, never the user's home."""
    os.environ["EXTRACTOR_OCR_CACHE"] = str(tmp_path_factory.mktemp("ocr-cache"))


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection from the test process beyond 127.0.0.1 / ::1 fails the test."""
    import socket

    real_connect = socket.socket.connect

    def guarded(self, address):  # type: ignore[no-untyped-def]
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach {address}: only 127.0.0.1 is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
