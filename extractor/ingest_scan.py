"""Scanned input: images (.png .jpg .tif, multi-page) and PDF pages without a text layer.

Pages are rendered (PDF, at ``DPI``) or loaded one at a time, so memory stays bounded, and read by
:mod:`extractor.ocr`. Each page's text is rebuilt from its rows like a digital PDF's, so provenance
(page, span, box) and everything downstream are the same whatever the input.
"""

from __future__ import annotations

import numpy as np

from extractor.document import Document
from extractor.errors import IngestError

DPI = 200  # accuracy/speed balance for A4 forms


def _open_image(path: str):  # type: ignore[no-untyped-def]
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise IngestError(path, "图片文件已损坏或格式无法识别", "请重新扫描或另存为PNG/JPG后重试") from exc


def image_frame(path: str, index: int) -> tuple[np.ndarray, float]:
    """(RGB array, dpi) of frame ``index`` of an image file; only that frame is decoded."""
    with _open_image(path) as im:
        try:
            im.seek(index)
            dpi = im.info.get("dpi", (DPI, DPI))[0] or DPI
            return np.asarray(im.convert("RGB")), float(dpi if dpi > 50 else DPI)
        except (OSError, EOFError, ValueError) as exc:
            raise IngestError(path, f"图片第{index + 1}帧无法解码（文件可能不完整）", "请重新扫描或另存为PNG/JPG后重试") from exc


def frame_count(path: str) -> int:
    with _open_image(path) as im:
        return int(getattr(im, "n_frames", 1))


def read_image(path: str) -> Document:
    """An image file (every frame of a multi-page TIFF is a page); frames are read in parallel."""
    from extractor.ocr_pages import ocr_pages

    n = frame_count(path)
    pages = ocr_pages(path, "image", list(range(n)))
    doc = Document(path, "image")
    doc.pages = [pages[i] for i in range(n)]
    if not any(p.rows for p in doc.pages):
        raise IngestError(path, "图片中没有识别出文字", "请确认扫描清晰、方向正确")
    return doc


def pdf_page_image(page, dpi: int = DPI) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A PDF page rendered to an RGB array."""
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].copy()


def page_image(path: str, index: int, pdf: bool) -> tuple[np.ndarray, float]:
    """(RGB array, dpi) of page ``index`` (0-based) as OCR reads it: a PDF page rendered at ``DPI``,
    or one frame of an image file."""
    if not pdf:
        return image_frame(path, index)
    import pymupdf

    with pymupdf.open(path) as doc:
        return pdf_page_image(doc[index], DPI), float(DPI)
