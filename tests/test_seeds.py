"""The parser on the real seed documents and on their renderings into real Word/Excel/PDF files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, SEEDS, load

from evalkit.metrics import score
from extractor.pipeline.process import process_file
from extractor.store.contract import result_to_contract

STEMS = [g.name.removesuffix(".gold.json") for g in SEEDS]


def _score(gold_path: Path, input_path: Path):
    res = process_file(input_path)
    assert res.status == "ok", res.error
    return score(load(gold_path), result_to_contract(res))


@pytest.mark.parametrize("stem", STEMS)
def test_seed_text_dump_matches_gold(stem: str) -> None:
    gold = ROOT / "eval_sets" / "seeds" / f"{stem}.gold.json"
    s = _score(gold, ROOT / "samples" / load(gold)["source"])
    assert s.field_accuracy >= 0.99, s.mismatches[:10]
    assert s.rows_prf[2] >= 0.99, s.mismatches[:10]
    assert s.forms_pred == s.forms_gold


@pytest.mark.parametrize("fmt", ["docx", "xlsx", "pdf", "lines.pdf", "boxes.pdf", "sheet.pdf", "md"])
@pytest.mark.parametrize("stem", STEMS)
def test_seed_rendering_matches_gold(stem: str, fmt: str, rendered) -> None:
    s = _score(ROOT / "eval_sets" / "seeds" / f"{stem}.gold.json", rendered[(stem, fmt)])
    assert s.field_accuracy >= 0.99, s.mismatches[:10]
    assert s.rows_prf[2] >= 0.99, s.mismatches[:10]


@pytest.mark.parametrize("stem", STEMS)
def test_flattened_one_line_forms(stem: str, rendered) -> None:
    """A form flattened onto one line loses empty cells, so the bar is lower, but every form is found."""
    s = _score(ROOT / "eval_sets" / "seeds" / f"{stem}.gold.json", rendered[(stem, "flat.txt")])
    assert s.forms_pred == s.forms_gold
    assert s.field_accuracy >= 0.96, s.mismatches[:10]
    assert s.rows_prf[2] >= 0.96
