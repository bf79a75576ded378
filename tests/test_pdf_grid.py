"""Ruled tables read from a PDF page's drawing commands (``extractor.ingest.pdf_grid``), on real PDF
files drawn here with pymupdf: merged cells, borders drawn several ways, what is not a table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from extractor.core.mupdf import pymupdf
from extractor.ingest.pdf import read_pdf
from extractor.ingest.pdf_grid import ruled_tables

# a 3 x 3 grid: the first column's two lower cells merged (a row span), the top row's last two
# merged (a column span)
XS = (50, 150, 250, 350)
YS = (100, 130, 160, 190)


def _grid_rules(style: str):  # type: ignore[no-untyped-def]
    """(kind, coordinates) of the rules of the test grid, drawn in one of several styles."""
    h = [(YS[0], XS[0], XS[3]), (YS[1], XS[0], XS[3]), (YS[2], XS[1], XS[3]), (YS[3], XS[0], XS[3])]
    v = [(XS[0], YS[0], YS[3]), (XS[1], YS[0], YS[3]), (XS[2], YS[1], YS[3]), (XS[3], YS[0], YS[3])]
    return h, v


def _page(tmp_path: Path, style: str, texts: dict[tuple[int, int], str] | None = None) -> Path:
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=300)
    shape = page.new_shape()
    h, v = _grid_rules(style)
    if style == "bars":  # MuPDF and Word: thin filled rectangles
        for y, x0, x1 in h:
            shape.draw_rect(pymupdf.Rect(x0, y - 0.4, x1, y + 0.4))
        for x, y0, y1 in v:
            shape.draw_rect(pymupdf.Rect(x - 0.4, y0, x + 0.4, y1))
        shape.finish(fill=(0, 0, 0), color=None, width=0)
    elif style == "strokes":  # stroked lines, cut at every crossing and a little short
        for y, x0, x1 in h:
            for a, b in zip((x0, *[x for x in XS if x0 < x < x1]), (*[x for x in XS if x0 < x < x1], x1)):
                shape.draw_line((a + 0.5, y), (b - 0.5, y))
        for x, y0, y1 in v:
            for a, b in zip((y0, *[y for y in YS if y0 < y < y1]), (*[y for y in YS if y0 < y < y1], y1)):
                shape.draw_line((x, a + 0.5), (x, b - 0.5))
        shape.finish(color=(0, 0, 0), width=0.5)
    elif style == "boxes":  # every cell its own rectangle, with a white page background under all
        shape.draw_rect(page.rect)
        shape.finish(fill=(1, 1, 1), color=None, width=0)
        for r in ((XS[0], YS[0], XS[1], YS[1]), (XS[1], YS[0], XS[3], YS[1]), (XS[0], YS[1], XS[1], YS[3]),
                  (XS[1], YS[1], XS[2], YS[2]), (XS[2], YS[1], XS[3], YS[2]), (XS[1], YS[2], XS[2], YS[3]),
                  (XS[2], YS[2], XS[3], YS[3])):
            shape.draw_rect(pymupdf.Rect(r) + (1, 1, -1, -1))
        shape.finish(color=(0, 0, 0), width=0.5)
    shape.commit()
    for (i, j), text in (texts or {}).items():
        page.insert_text((XS[j] + 5, YS[i] + 20), text, fontname="china-s", fontsize=10)
    path = tmp_path / f"{style}.pdf"
    doc.save(str(path))
    return path


def _boxes(path: Path) -> list[list[tuple[float, float, float, float] | None]]:
    with pymupdf.open(str(path)) as doc:
        tables = ruled_tables(doc[0].get_cdrawings())
    assert len(tables) == 1
    return [[tuple(round(v) for v in c) if c else None for c in r.cells] for r in tables[0].rows]


@pytest.mark.parametrize("style", ["bars", "strokes", "boxes"])
def test_merged_cells_come_out_as_the_grid_has_them(tmp_path: Path, style: str) -> None:
    rows = _boxes(_page(tmp_path, style))
    # boxes drawn 1 pt inside their cells put the outer border 1 pt in; inner double rules meet halfway
    rows = [[tuple(10 * round(v / 10) for v in c) if c else None for c in r] for r in rows]
    assert rows == [
        [(50, 100, 150, 130), (150, 100, 350, 130), None],  # the column span: one cell, then nothing
        [(50, 130, 150, 190), (150, 130, 250, 160), (250, 130, 350, 160)],
        [None, (150, 160, 250, 190), (250, 160, 350, 190)],  # covered from above by the row span
    ]


def test_cell_text_is_read_into_its_cell_and_a_merged_cell_is_not_split(tmp_path: Path) -> None:
    texts = {(0, 0): "项目名称", (0, 1): "乡村道路养护", (1, 0): "产出指标", (1, 1): "数量指标", (1, 2): "≥80公里",
             (2, 1): "质量指标", (2, 2): "合格率100%"}
    doc = read_pdf(str(_page(tmp_path, "strokes", texts)), ocr=False)
    rows = [[c.text for c in r.cells] for r in doc.pages[0].rows]
    assert rows == [["项目名称", "乡村道路养护"], ["产出指标", "数量指标", "≥80公里"], ["", "质量指标", "合格率100%"]]
    cell = doc.pages[0].rows[1].cells[2]
    assert cell.bbox is not None and abs(cell.bbox[0] - 250) < 2 and abs(cell.bbox[3] - 160) < 2


def test_an_open_side_makes_no_cell_and_loose_rules_no_table() -> None:
    # three sides of a box, then a lone underline: neither is a table
    paths = [{"type": "s", "items": [("l", (10, 10), (100, 10)), ("l", (10, 10), (10, 50)),
                                      ("l", (100, 10), (100, 50))]},
             {"type": "s", "items": [("l", (10, 200), (300, 200))]}]
    assert ruled_tables(paths) == []


def test_two_tables_on_a_page_stay_apart() -> None:
    def box(x0, y0, x1, y1):  # type: ignore[no-untyped-def]
        return {"type": "s", "items": [("re", (x0, y0, x1, y1), 1)]}

    tables = ruled_tables([box(10, 300, 200, 340), box(10, 10, 200, 40), box(10, 40, 200, 80)])
    assert [t.bbox for t in tables] == [(10, 10, 200, 80), (10, 300, 200, 340)]
    assert [len(t.rows) for t in tables] == [2, 1]


def test_a_ruled_page_never_calls_find_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pymupdf's find_tables (its own character list, word grouping) is the fallback, not the path."""
    path = _page(tmp_path, "bars", {(0, 0): "项目名称", (0, 1): "乡村道路养护工程项目"})

    def refuse(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("find_tables called on a ruled page")

    monkeypatch.setattr(pymupdf.Page, "find_tables", refuse)
    doc = read_pdf(str(path), ocr=False, min_chars=1)
    assert [c.text for c in doc.pages[0].rows[0].cells] == ["项目名称", "乡村道路养护工程项目"]


def test_pymupdf_layout_addons_are_not_imported() -> None:
    """pymupdf 2.0 imports its ONNX layout model on ``import pymupdf`` (0.75 s a process); the reader
    hides it, and a caller can still import it afterwards."""
    code = ("import sys; import extractor.ingest.pdf; "
            "assert 'pymupdf.layout' not in sys.modules and 'pymupdf4llm' not in sys.modules; "
            "import pymupdf4llm; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
