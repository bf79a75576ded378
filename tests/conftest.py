"""Shared fixtures: the bundled seeds, their gold, and renderings of the gold into real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "eval_sets" / "seeds").glob("*.gold.json"))
SHARED = ROOT.parent / "shared"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every seed gold rendered to docx, xlsx, pdf, md and flat text (made once per session)."""
    from extractor.fixtures import render_all

    out = tmp_path_factory.mktemp("rendered")
    made = {}
    for g in SEEDS:
        stem = g.name.removesuffix(".gold.json")
        for fmt, p in render_all(load(g), out, ("docx", "xlsx", "pdf", "md", "flat.txt"), stem=stem).items():
            made[(stem, fmt)] = p
    return made
