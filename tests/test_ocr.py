"""Scanned input, offline: a degraded scan of a real seed form read through rapidocr's bundled
models, an image file, and values read with low confidence marked for the reviewer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT

from evalkit.metrics import score
from extractor.pipeline.process import process_file
from extractor.store.contract import result_to_contract

GOLD = ROOT / "eval_sets" / "seeds" / "001_cc20b351adbf8378.gold.json"


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from evalkit.fixtures import render_scan

    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    gold["forms"] = gold["forms"][:2]
    out = tmp_path_factory.mktemp("scan") / "scan.pdf"
    render_scan(gold["forms"], out)
    return out, gold


def test_degraded_scan_of_seed_forms_reads_like_the_digital_ones(scan) -> None:
    path, gold = scan
    res = process_file(path)
    assert res.status == "ok" and res.kind == "pdf-scan"
    s = score(gold, result_to_contract(res))
    assert s.field_accuracy >= 0.95, s.mismatches[:10]
    assert s.rows_prf[2] >= 0.97
    ind = res.forms[0].indicators[0]
    assert ind.sources["name"].bbox and ind.sources["name"].confidence is not None


def test_image_file_input(scan, tmp_path: Path) -> None:
    import pymupdf

    path, gold = scan
    with pymupdf.open(str(path)) as doc:
        pix = doc[0].get_pixmap(dpi=200)
    png = tmp_path / "page.png"
    pix.save(str(png))
    res = process_file(png)
    assert res.status == "ok" and res.forms[0].project_name == gold["forms"][0]["project_name"]


def test_models_ship_in_the_wheel_and_nothing_is_fetched() -> None:
    import rapidocr

    from extractor.ocr.cells import engine

    models = Path(rapidocr.__file__).parent / "models"
    assert any(models.glob("*det*.onnx")) and any(models.glob("*rec*.onnx"))
    engine()  # the conftest guard fails the test if this tries to reach any host


_INDICATORS = [["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"],
               ["", "产出指标", "数量指标", "培训人数", "≥30人", "35人", "90", "90", ""], ["总分", "100", "100", ""]]


def _ocr_form(funds: list[list[str]], confidence=lambda text: 0.99, head=()):  # type: ignore[no-untyped-def]
    """One form as OCR would hand it over: the funds rows given, a one-row indicator table, every
    cell read with ``confidence(text)``; extracted by the real parser."""
    from extractor.core.document import Cell, Document, Page, Row
    from extractor.reading.extract import extract_forms

    rows = [["项目名称", "测试项目"], *head,
            ["项目资金（万元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"], *funds, *_INDICATORS]
    built = [Row([Cell(t, confidence=confidence(t)) for t in r], 1, n, exact=True) for n, r in enumerate(rows, start=1)]
    return extract_forms(Document("x.png", "image", [Page(1, "", built)]))[0]


def test_low_confidence_values_are_marked() -> None:
    form = _ocr_form([["", "年度资金总额", "10", "10", "10", "10", "100%", "10"]],
                     confidence=lambda t: 0.5 if t == "35人" else 0.99, head=[["主管部门", "某局", "实施单位", "某中心"]])
    assert any("OCR识别置信度较低" in w and "第1个指标的实际完成值" in w for w in form.warnings)
    assert form.confidence < 1


def _funds_form(cells: dict[str, str]):  # type: ignore[no-untyped-def]
    return _ocr_form([["", "年度资金总额", "12.5", "12.5", cells["total"], "10", cells["rate"], "10"],
                      ["", "其中：当年财政拨款", "12.5", "12.5", cells["fiscal"], "—", "—", "—"]],
                     confidence=lambda t: 0.95)


def test_dropped_decimal_point_is_repaired_only_where_the_arithmetic_proves_it() -> None:
    form = _funds_form({"total": "1248263", "rate": "99.86%", "fiscal": "12.48263"})
    assert form.funds.total.executed == 12.48263
    assert any("修正为12.4826" in w and "请核对" in w for w in form.warnings)
    # no check fails on its own figures: nothing is touched
    form = _funds_form({"total": "1250", "rate": "10000%", "fiscal": "1250"})
    assert form.funds.total.executed == 1250
    assert not any("修正为" in w for w in form.warnings)
    # 125000 next to 12.5: 元 written in a 万元 table (a real error for the reviewer), not a lost point
    form = _funds_form({"total": "125000", "rate": "100%", "fiscal": "12.5"})
    assert form.funds.total.executed == 125000
    assert not any("修正为" in w for w in form.warnings)


def test_stopped_scan_resumes_from_cached_pages(scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractor.ocr import pages as ocr_pages

    path, _gold = scan
    monkeypatch.setenv("EXTRACTOR_OCR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EXTRACTOR_OCR_WORKERS", "1")
    seen: list[tuple[int, int]] = []
    ocr_pages.set_progress(lambda _f, done, total: seen.append((done, total)))
    try:
        first = ocr_pages.ocr_pages(str(path), "pdf", [0])  # a run stopped after page 1
        assert seen == [(1, 1)]
        read: list[int] = []
        real = ocr_pages._read_one
        monkeypatch.setattr(ocr_pages, "_read_one", lambda p, k, i: read.append(i) or real(p, k, i))
        again = ocr_pages.ocr_pages(str(path), "pdf", [0, 1])  # resumed: only page 2 is read
    finally:
        ocr_pages.set_progress(None)
    assert read == [1]
    assert again[0].text == first[0].text and again[0].text.strip()
    assert seen[-1] == (2, 2)


def test_cli_reads_scan_pages_in_parallel_workers_like_serial(scan, tmp_path: Path) -> None:
    import subprocess
    import sys

    path, _gold = scan
    env = dict(os.environ, EXTRACTOR_OCR_WORKERS="2", EXTRACTOR_OCR_CACHE="off")
    subprocess.run([sys.executable, "-m", "extractor", "extract", str(path), "-o", str(tmp_path), "-q"],
                   env=env, check=True, cwd=ROOT, timeout=300)
    parallel = json.loads((tmp_path / f"{path.stem}.json").read_text(encoding="utf-8"))
    serial = json.loads(json.dumps(result_to_contract(process_file(path)), ensure_ascii=False))
    assert parallel["forms"] and parallel["forms"] == serial["forms"]


def test_mixed_pdf_reads_text_pages_directly_and_scanned_pages_by_ocr(scan, tmp_path: Path) -> None:
    """The digital PDF of two seed forms with its second page swapped for the scanned one."""
    import pymupdf

    from evalkit.fixtures import render_pdf

    path, gold = scan
    digital = tmp_path / "digital.pdf"
    render_pdf(gold["forms"], digital)
    mixed = tmp_path / "mixed.pdf"
    with pymupdf.open(str(digital)) as d, pymupdf.open(str(path)) as s:
        d.delete_page(1)
        d.insert_pdf(s, from_page=1, to_page=1)
        d.save(str(mixed))
    res = process_file(mixed)
    assert res.status == "ok" and res.kind == "pdf-mixed"
    assert any("OCR" in w and "[2]" in w for w in res.warnings)
    s = score(gold, result_to_contract(res))
    assert s.field_accuracy >= 0.95 and not s.missing, s.mismatches[:5]
    first, second = res.forms
    assert first.indicators[0].sources["name"].confidence is None  # text layer
    assert second.indicators[0].sources["name"].confidence is not None and second.pages == (2, 2)


def test_multipage_tiff_reads_every_frame(scan, tmp_path: Path) -> None:
    import pymupdf
    from PIL import Image

    path, gold = scan
    with pymupdf.open(str(path)) as doc:
        frames = [Image.frombytes("RGB", (p.width, p.height), p.samples)
                  for p in (doc[i].get_pixmap(dpi=200) for i in range(doc.page_count))]
    tif = tmp_path / "scan.tif"
    frames[0].save(tif, save_all=True, append_images=frames[1:], compression="tiff_deflate", dpi=(200, 200))
    res = process_file(tif)
    assert res.status == "ok" and res.kind == "image"
    assert [f.project_name for f in res.forms] == [f["project_name"] for f in gold["forms"]]
    assert [f.pages for f in res.forms] == [(1, 1), (2, 2)]


def test_flag_resting_on_a_shaky_ocr_figure_says_so() -> None:
    """19.6 read as 10.6 at 0.89: the execution-rate findings it causes tell the reviewer to check the
    figure first; the same form read with sure figures gets no such note."""
    from extractor.core.config import load_config
    from extractor.review.engine import SHAKY_NOTE, review_form

    def form(conf: float):  # type: ignore[no-untyped-def]
        read = _ocr_form([["", "年度资金总额", "19.6", "19.6", "10.6", "10", "100%", "10"]],
                         confidence=lambda t: conf if t == "10.6" else 0.99)
        return review_form(read, load_config())

    shaky = [f for f in form(0.886).flags if f.code in ("rate-mismatch", "low-execution")]
    assert shaky and all(f.message.endswith(SHAKY_NOTE) for f in shaky)
    sure = [f for f in form(0.99).flags if f.code in ("rate-mismatch", "low-execution")]
    assert sure and not any(SHAKY_NOTE in f.message for f in sure)


def test_dashes_read_with_low_confidence_are_not_values_to_check() -> None:
    from extractor.store.contract import form_to_contract, low_confidence

    form = _ocr_form([["", "年度资金总额", "12.5", "12.5", "12.5", "10", "100%", "10"],
                      ["", "其中：当年财政拨款", "12.5", "12.5", "12.5", "—", "—", "—"]],
                     confidence=lambda t: 0.5 if t == "—" else 0.99)
    assert form.funds.fiscal.sources["weight"].confidence == 0.5  # the dash keeps its trace
    assert low_confidence(form_to_contract(form)) == {}
    assert not any("OCR识别置信度较低" in w for w in form.warnings)


def test_app_import_reads_scans_on_the_shared_page_workers(scan, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The review app's import (ImportJob) reads a scan's pages in the CLI's parallel workers, with
    progress naming the file being read; the forms equal a serial read's (issue 16)."""
    import shutil
    import time

    from extractor.core.config import load_config
    from extractor.core.cores import use_all_cores
    from extractor.ocr import pages as ocr_pages
    from extractor.pipeline.importer import ImportJob
    from extractor.store.database import Store

    path, _gold = scan
    monkeypatch.setenv("EXTRACTOR_OCR_CACHE", "off")
    monkeypatch.setenv("EXTRACTOR_OCR_WORKERS", "2")
    files = [tmp_path / "甲.pdf", tmp_path / "乙扫描件.pdf"]
    for f in files:
        shutil.copy(path, f)
    store = Store(tmp_path / "r.db")
    job = ImportJob(store, files, cfg=load_config())
    seen: list[tuple[str, tuple[int, int] | None]] = []
    real_read = ocr_pages._parallel

    def watch(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(("parallel", None))
        return real_read(*a, **k)

    monkeypatch.setattr(ocr_pages, "_parallel", watch)
    job.start()
    while job.alive:
        seen.append((job.current, job.page))
        time.sleep(0.05)
    try:
        assert ("parallel", None) in seen and ocr_pages.pool_size() == 2
        for name, page in seen:
            if page is not None:  # a page count is only ever shown beside the file it belongs to
                assert name in {f.name for f in files}
        labels = {name for name, page in seen if page is not None}
        assert labels <= {f.name for f in files} and labels
        items = store.import_items(job.import_id)
        assert [r["state"] for r in items] == ["ok", "ok"]
        use_all_cores(False)
        serial = result_to_contract(process_file(path))
        got = [store.raw_form(r["id"])[0] for r in store.triage(copies=True)]
        names = sorted(f["project_name"] for f in got)
        assert names == sorted([f["project_name"] for f in serial["forms"]] * 2)
    finally:
        use_all_cores(False)
