"""Bad input gets a clear Chinese error naming the file and the remedy; a batch goes on past it."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest
from conftest import ROOT

from extractor.core.errors import IngestError
from extractor.ingest import ingest
from extractor.pipeline.batch import run_batch
from extractor.pipeline.process import process_file


def _encrypted_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "项目支出绩效自评表")
    doc.save(str(path), encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    return path


def _scan_only_pdf(path: Path) -> Path:
    doc = pymupdf.open()
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 50, 50), False)
    pix.clear_with(200)
    page.insert_image(page.rect, pixmap=pix)
    doc.save(str(path))
    return path


BAD_FILES = {
    "empty.txt": (lambda p: p.write_bytes(b""), "文件为空"),
    "blank.txt": (lambda p: p.write_bytes(b"  \n\n "), "文件为空"),
    "corrupt.pdf": (lambda p: p.write_bytes(b"%PDF-1.7 garbage" * 10), "PDF文件已损坏"),
    "locked.pdf": (_encrypted_pdf, "已加密"),
    "cut.pdf": (lambda p: p.write_bytes((ROOT / "samples" / "001_cc20b351adbf8378.pdf").read_bytes()[:3000]),
                "被截断"),  # cut before its page tree
    "scan.pdf": (_scan_only_pdf, "没有识别出文字"),
    "old.doc": (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100), ".doc"),
    "broken.docx": (lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "Word文件已损坏"),
    "broken.xlsx": (lambda p: p.write_bytes(b"not a workbook"), "Excel文件已损坏"),
    "binary.txt": (lambda p: p.write_bytes(b"\x00\x01\x02\xff\xfe" * 50), "文件"),
    "image.png": (lambda p: p.write_bytes(b"\x89PNG\r\n"), "图片"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gets_a_chinese_error_naming_it(tmp_path: Path, name: str) -> None:
    make, expected = BAD_FILES[name]
    path = tmp_path / name
    make(path)
    with pytest.raises(IngestError) as err:
        ingest(str(path))
    msg = str(err.value)
    assert name in msg and expected in msg and "处理建议" in msg


def test_missing_file(tmp_path: Path) -> None:
    res = process_file(tmp_path / "nope.pdf")
    assert res.status == "failed" and "文件不存在" in (res.error or "")


def test_batch_goes_on_past_bad_files(tmp_path: Path) -> None:
    bad = []
    for name in ("empty.txt", "corrupt.pdf", "locked.pdf"):
        make, _ = BAD_FILES[name]
        make(tmp_path / name)
        bad.append(tmp_path / name)
    good = ROOT / "samples" / "001_cc20b351adbf8378.txt"
    out = tmp_path / "out"
    rep = run_batch([bad[0], good, bad[1], bad[2]], out)
    assert [r.status for _, r, _ in rep.results] == ["failed", "ok", "failed", "failed"]
    assert rep.n_forms == 5
    assert (out / "001_cc20b351adbf8378.json").exists()
    summary = (out / "_batch.json").read_text(encoding="utf-8")
    assert "已加密" in summary and "文件为空" in summary


def test_fail_fast_stops_at_first_failure(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    rep = run_batch([tmp_path / "empty.txt", ROOT / "samples" / "001_cc20b351adbf8378.txt"], None, fail_fast=True)
    assert len(rep.results) == 1
