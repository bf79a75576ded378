"""Open any supported input and turn it into a :class:`~extractor.core.document.Document`.

Text files are decoded as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK; PDF, Word
and Excel files go to their own readers. Every failure is an :class:`IngestError` whose Chinese
message names the file and says what to do.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from extractor.core.document import Cell, Document, Page, page_from_cells
from extractor.core.errors import IngestError, UnsupportedFormat

TEXT_EXT = {".txt", ".text", ".md", ".csv", ".tsv"}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}
SUPPORTED = TEXT_EXT | IMAGE_EXT | {".pdf", ".docx", ".xlsx", ".xlsm"}
SUPPORTED_TEXT = ("文本（.txt .md .csv .tsv）、PDF（含扫描件）、Word（.docx）、Excel（.xlsx .xlsm）、"
                  "图片（.png .jpg .tif .bmp）")  # what every "supported types" message says


def decode_text(data: bytes, path: str) -> str:
    """Decode text bytes, detecting UTF-8/UTF-16/GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates: dict[str, str] = {}
    for enc in ("gb18030", "big5"):
        try:
            candidates[enc] = data.decode(enc)
        except UnicodeDecodeError:
            continue
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if candidates:
        return _likelier(data, candidates)
    import charset_normalizer  # only for text that is not UTF-8

    guess = charset_normalizer.from_bytes(data).best()
    if guess is not None and guess.encoding:
        return str(guess)
    raise IngestError(path, "文本编码无法识别（不是UTF-8、GBK/GB18030或Big5）",
                      "请用记事本或WPS另存为UTF-8编码后重试")


def _likelier(data: bytes, candidates: dict[str, str]) -> str:
    """GB18030 decodes almost any Big5 file without an error, as gibberish: the reading that holds
    more of the form's own words wins; charset-normalizer decides when neither holds any."""
    from extractor.core.vocabulary import fold, label_hits

    scores = {enc: label_hits(fold(text[:20000])) for enc, text in candidates.items()}
    best = max(scores, key=lambda e: scores[e])
    if scores[best] > 0 and list(scores.values()).count(scores[best]) == 1:
        return candidates[best]
    import charset_normalizer

    ranked = charset_normalizer.from_bytes(data, cp_isolation=list(candidates)).best()
    if ranked is not None and ranked.encoding in ("big5", "cp950"):
        return candidates["big5"]
    return candidates.get("gb18030") or next(iter(candidates.values()))


def read_text_file(path: str) -> Document:
    """A text dump: one page. A ``.csv`` is read as a grid (an Excel sheet saved as CSV)."""
    data = Path(path).read_bytes()
    if not data.strip():
        raise IngestError(path, "文件为空", "请确认导出是否成功，或换用原始PDF/Word文件")
    text = decode_text(data, path).replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise IngestError(path, "文件内容不是文本（含二进制数据）", "请确认文件类型与扩展名一致")
    if path.lower().endswith(".csv"):
        return _read_csv(path, text)
    return Document(path, "txt", [Page(1, text)])


def _read_csv(path: str, text: str) -> Document:
    rows: list[tuple[list[Cell], bool]] = []
    for rec in csv.reader(io.StringIO(text)):
        cells = [Cell(v.strip()) for v in rec]
        if any(c.text for c in cells):
            rows.append((cells, True))
    return Document(path, "csv", [page_from_cells(1, rows)])


def ingest(path: str) -> Document:
    """Read one file of any supported type."""
    p = Path(path)
    if not p.exists():
        raise IngestError(path, "文件不存在", "请检查路径是否正确")
    if p.is_dir():
        raise IngestError(path, "这是一个文件夹，不是文件", "请指定文件，或使用批量处理")
    ext = p.suffix.lower()
    if os.path.getsize(path) == 0:
        raise IngestError(path, "文件为空（0字节）", "请确认导出或下载是否完整")
    if ext in TEXT_EXT:
        return read_text_file(path)
    if ext == ".pdf":
        from extractor.ingest.pdf import read_pdf
        return read_pdf(path)
    if ext == ".docx":
        from extractor.ingest.office import read_docx
        return read_docx(path)
    if ext in (".xlsx", ".xlsm"):
        from extractor.ingest.office import read_xlsx
        return read_xlsx(path)
    if ext == ".doc":
        raise UnsupportedFormat(path, "不支持旧版Word（.doc）格式",
                                "请用Word或WPS打开后另存为.docx，或运行 libreoffice --headless --convert-to docx 文件名.doc")
    if ext == ".xls":
        raise UnsupportedFormat(path, "不支持旧版Excel（.xls）格式", "请用Excel或WPS另存为.xlsx后重试")
    if ext in IMAGE_EXT:
        from extractor.ingest.scan import read_image
        return read_image(path)
    raise UnsupportedFormat(path, f"不支持的文件类型“{ext or '无扩展名'}”",
                            f"支持的类型：{SUPPORTED_TEXT}")
