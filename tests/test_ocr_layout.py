"""Page layouts that broke the scanned-table rebuild, drawn as real page images and read by rapidocr:
a red seal over figures, boxes the detector runs across a rule, merged cells whose text sits low in
the span, a header whose 一级指标 OCR reads as 二级指标, and a page too tall to read in one piece."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT


def _table_image(rows: list[list[str]], widths: list[float], *, merged: dict[tuple[int, int], int] | None = None,
                 low: set[tuple[int, int]] | None = None, dpi: int = 200, height: float | None = None, rh: float = 26.0) -> np.ndarray:
    """A ruled table drawn with pymupdf and rasterised. ``merged[(r, c)] = n``: cell (r, c) spans n
    rows (no rule under it); ``low``: cells whose text is written at the bottom of their span."""
    import pymupdf

    merged, low = merged or {}, low or set()
    x = [40.0]
    for w in widths:
        x.append(x[-1] + w)
    height = height or 80 + rh * len(rows) + 40
    doc = pymupdf.open()
    page = doc.new_page(width=x[-1] + 40, height=height)
    covered = {(r + k, c) for (r, c), n in merged.items() for k in range(1, n)}
    y0 = 60.0
    shape = page.new_shape()
    for r in range(len(rows) + 1):
        y = y0 + r * rh
        for c in range(len(widths)):
            if r in range(1, len(rows)) and (r, c) in covered:
                continue  # inside a merged cell: no rule
            shape.draw_line((x[c], y), (x[c + 1], y))
    for c in range(len(widths) + 1):
        shape.draw_line((x[c], y0), (x[c], y0 + rh * len(rows)))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            if not text:
                continue
            span = merged.get((r, c), 1)
            rr = r + span - 1 if (r, c) in low else r
            page.insert_text((x[c] + 3, y0 + rr * rh + rh / 2 + 4), text, fontname="china-s", fontsize=10)
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, 3).copy()


def _texts(img: np.ndarray) -> list[list[str]]:
    from extractor.ocr.cells import page_cells

    return [[c.text for c in cells] for _y, cells, in_grid in page_cells(img, 72 / 200) if in_grid]


def test_red_seal_over_figures_is_dropped_before_reading() -> None:
    from PIL import Image, ImageDraw

    from extractor.ocr.image import drop_red

    img = _table_image([["项目", "年初预算数", "全年预算数"], ["其中：当年财政拨款", "3.06", "12.48"]], [140, 90, 90])
    base = Image.fromarray(img).convert("RGBA")
    seal = Image.new("RGBA", base.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(seal)
    cx, cy = int(40 * 200 / 72 + 140 * 200 / 72 + 45 * 200 / 72), int((60 + 26 * 1.5) * 200 / 72)
    d.ellipse((cx - 130, cy - 130, cx + 130, cy + 130), outline=(220, 30, 30, 160), width=6)
    d.regular_polygon((cx, cy, 45), 5, fill=(220, 30, 30, 120))
    stamped = np.asarray(Image.alpha_composite(base, seal).convert("RGB")).copy()
    dropped = drop_red(stamped)
    ring = (cy, cx - 127)  # a pixel on the seal's ring, away from any print
    assert stamped[ring][1] < 150 and dropped[ring].min() > 200  # the ring is gone
    assert _texts(stamped)[1] == ["其中：当年财政拨款", "3.06", "12.48"]


def test_merged_cell_text_low_in_its_span_belongs_to_the_first_row() -> None:
    rows = [["一级指标", "二级指标", "三级指标", "分值"],
            ["满意度指标", "服务对象满意度指标", "居民满意度", "5"],
            ["", "", "职工满意度", "5"],
            ["", "", "单位满意度", "5"]]
    img = _table_image(rows, [80, 130, 110, 50], merged={(1, 0): 3, (1, 1): 3}, low={(1, 1)})
    got = _texts(img)
    assert got[1][:3] == ["满意度指标", "服务对象满意度指标", "居民满意度"]
    assert got[2][:2] == ["", ""] and got[3][:2] == ["", ""]


def _md_form(tmp_path, header: str, rows: list[str]):  # type: ignore[no-untyped-def]
    """One form written as a Markdown pipe table and read back through the whole pipeline."""
    from extractor.pipeline.process import process_file

    md = tmp_path / "form.md"
    md.write_text("项目支出绩效自评表\n\n| 项目名称 | 测试项目 | | | | | | | |\n|---|---|---|---|---|---|---|---|---|\n"
                  f"| 绩效指标 | {header} | 三级指标 | 年度指标值 | 实际完成值 | 分值 | 得分 | 偏差原因 |\n"
                  + "".join(f"| | {r} |\n" for r in rows) + "| 总分 | 100 | 100 | | | | | | |\n", encoding="utf-8")
    return process_file(md).forms[0]


def test_header_with_level1_misread_as_level2_keeps_both_levels(tmp_path) -> None:
    form = _md_form(tmp_path, "二级指标 | 二级指标", ["产出指标 | 数量指标 | 培训人数 | ≥30人 | 35人 | 50 | 50 |",
                                                   "效益指标 | 社会效益指标 | 群众知晓率 | ≥90% | 95% | 50 | 50 |"])
    assert [(i.level1, i.level2) for i in form.indicators] == [("产出指标", "数量指标"), ("效益指标", "社会效益指标")]


@pytest.fixture(scope="module")
def long_scan(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Two forms of seed 002 as a degraded scan: the 28-indicator form on one 2692-point page, and a
    form whose targets are in ㎡."""
    from evalkit.fixtures import render_scan
    from extractor.pipeline.process import process_file

    gold = json.loads(next((ROOT / "eval_sets" / "seeds").glob("002_*.gold.json")).read_text(encoding="utf-8"))
    gold["forms"] = [gold["forms"][0], next(f for f in gold["forms"] if "㎡" in json.dumps(f, ensure_ascii=False))]
    path = tmp_path_factory.mktemp("long") / "long.pdf"
    render_scan(gold["forms"], path, a4=False)  # the long form stays on one tall page
    return path, gold, process_file(path)


def test_page_taller_than_the_ocr_limit_is_read_in_strips(long_scan) -> None:
    """7479 px at 200 dpi: rapidocr alone would shrink the page to 2000 px and lose the form; read in
    strips cut between text lines it matches the gold."""
    import pymupdf

    from evalkit.metrics import score
    from extractor.ocr.image import MAX_SIDE, deskew, regions
    from extractor.ocr.page_images import pdf_page_image
    from extractor.store.contract import result_to_contract

    path, gold, res = long_scan
    with pymupdf.open(str(path)) as doc:
        img, _ = deskew(pdf_page_image(doc[0]))
    (_x0, _x1), strips = regions(img)
    assert img.shape[0] > 3 * MAX_SIDE and len(strips) >= 4
    assert all(y1 - y0 <= MAX_SIDE for y0, y1 in strips)
    s = score(gold, result_to_contract(res))
    assert s.forms_pred == 2 and not s.missing
    assert s.field_accuracy >= 0.95, s.mismatches[:8]
    assert s.rows_prf[2] >= 0.97


def test_every_wrong_value_read_with_low_confidence_is_marked(long_scan) -> None:
    from evalkit.metrics import score
    from extractor.core.records import doubtful
    from extractor.store.contract import get_path, low_confidence, provenance, result_to_contract

    _path, gold, res = long_scan
    traced = result_to_contract(res)["forms"]
    s = score(gold, {"forms": traced})
    shaky = [(pi, p) for pi, p in s.wrong if get_path(traced[pi], p) is not None
             and doubtful(p.split(".")[-1], (provenance(traced[pi], p) or {}).get("confidence"))]
    for pi, p in shaky:
        assert p in low_confidence(traced[pi])
        assert any("OCR识别置信度较低" in w for w in traced[pi]["warnings"])
    # the marking itself is exercised whether or not this scan's doubtful readings are wrong: every
    # doubtful reading (a degraded scan always has some) is listed for checking and warned of
    marked = [(pi, path) for pi, form in enumerate(traced) for path in low_confidence(form)]
    assert marked, "a degraded scan with no doubtful reading at all: the test would check nothing"
    for pi, _path in marked:
        assert any("OCR识别置信度较低" in w for w in traced[pi]["warnings"])


@pytest.mark.parametrize("blank", [True, False])
def test_blank_margins_are_not_read(blank: bool) -> None:
    from extractor.ocr.image import regions

    img = np.full((2400, 1600, 3), 255, np.uint8)
    if not blank:
        img[1000:1030, 300:900] = 0  # a bar of ink
    (x0, x1), strips = regions(img)
    if blank:
        assert strips == []
    else:
        assert 270 <= x0 <= 300 and 900 <= x1 <= 930 and strips == [(988, 1042)]


def test_unit_the_recogniser_cannot_print_is_marked_not_trusted() -> None:
    """rapidocr has no ㎡ in its character set: 5450㎡ reads, confidently, as 5450m, or the glyph is
    skipped (5450防水铺设, at 0.99). Either way the cell is reported below the review threshold so the
    reviewer checks it: a bare m after a number, or printed ink where nothing was read."""
    from extractor.core.records import LOW_CONFIDENCE
    from extractor.ocr.cells import page_cells

    img = _table_image([["三级指标", "分值"], ["完成5450㎡防水铺设", "10"]], [160, 90])
    (name, weight), = [cells for _y, cells, grid in page_cells(img, 72 / 200) if grid][1:]
    assert name.text.startswith("完成5450") and name.text.endswith("防水铺设")
    assert name.confidence is not None and name.confidence < LOW_CONFIDENCE
    assert weight.text == "10" and weight.confidence is not None and weight.confidence >= LOW_CONFIDENCE


def test_last_page_holding_only_the_total_row_is_still_a_table() -> None:
    """A long form's last A4 page often holds nothing but the 总分 row: its column rules are short
    next to the page, but they still make cells."""
    from extractor.ocr.cells import page_cells

    img = _table_image([["总分", "100", "99.99", ""]], [300, 50, 50, 60], height=842, rh=15)
    assert [[c.text for c in cells] for _y, cells, grid in page_cells(img, 72 / 200) if grid] == \
        [["总分", "100", "99.99", ""]]


@pytest.mark.parametrize(("read", "meant"), [("o", "0"), ("1O0", "100"), ("l0.5", "10.5"), ("10一", "10"),
                                             ("1 2.4 8", "12.48"), ("合同..", "合同……"), ("Ok", "Ok"), ("-10", "-10"),
                                             ("完成“疏整促“工作", "完成“疏整促”工作"), ("一", "—"), ("-级指标", "一级指标"),
                                             # a funds header one character off is that header; values stay
                                             ("全年执行故", "全年执行数"), ("全执行数", "全年执行数"),
                                             ("年初预算故", "年初预算数"), ("全年完成", "全年完成"),
                                             ("全年完成率", "全年完成率"), ("全年执行数", "全年执行数")])
def test_unambiguous_ocr_habits_are_undone(read: str, meant: str) -> None:
    from extractor.ocr.text import fix_reading

    assert fix_reading(read) == meant


def test_level_label_cut_at_a_page_break_is_joined(tmp_path) -> None:
    form = _md_form(tmp_path, "一级指标 | 二级指标", ["效益指标 | 可持续影响指 | 机制长效运行 | 长期 | 长期 | 50 | 50 |",
                                                   " | 标 | 制度建设 | 完善 | 完善 | 50 | 50 |"])
    assert [i.level2 for i in form.indicators] == ["可持续影响指标", "可持续影响指标"]


@pytest.mark.parametrize("shear", [0.0, 0.015])
def test_photographed_page_reads_like_a_scan(tmp_path, shear: float) -> None:
    """A phone photo of a form, cropped to the page: leftover perspective (corners moved by up to
    0.8% of the width), light falling off across the page, and with ``shear`` a slant that moves the
    rules sideways by 1.5% of the page height from top to bottom, which deskew cannot undo."""
    import pymupdf
    from PIL import Image

    from evalkit.fixtures import photograph, render_pdf
    from evalkit.metrics import score
    from extractor.pipeline.process import process_file
    from extractor.store.contract import result_to_contract

    gold = json.loads(next((ROOT / "eval_sets" / "seeds").glob("001_*.gold.json")).read_text(encoding="utf-8"))
    gold["forms"] = gold["forms"][:1]
    render_pdf(gold["forms"], tmp_path / "clean.pdf")
    with pymupdf.open(str(tmp_path / "clean.pdf")) as doc:
        pix = doc[0].get_pixmap(dpi=200, alpha=False)
    img = photograph(Image.frombytes("RGB", (pix.width, pix.height), pix.samples), np.random.default_rng(5),
                     shear=shear)
    img.save(tmp_path / "photo.jpg", quality=88, dpi=(200, 200))
    s = score(gold, result_to_contract(process_file(tmp_path / "photo.jpg")))
    assert s.forms_pred == 1 and s.field_accuracy >= 0.95, s.mismatches[:8]
    assert s.rows_prf[2] >= 0.97
