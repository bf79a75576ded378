"""Scanned input: images (.png .jpg .tif, multi-page) and PDF pages without a text layer.

Pages are rendered (PDF, at ``DPI``) or loaded one at a time, so memory stays bounded, and read by
:mod:`extractor.ocr`. Each page's text is rebuilt from its rows like a digital PDF's, so provenance
(page, span, box) and everything downstream are the same whatever the input.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from extractor.document import Document, Page, page_from_cells
from extractor.errors import IngestError

DPI = 200  # accuracy/speed balance for A4 forms


def _page(number: int, img: np.ndarray, dpi: float) -> Page:
    from extractor.ocr import page_cells

    rows = page_cells(img, 72.0 / dpi)
    page = page_from_cells(number, [(cells, exact) for _y, cells, exact in rows])
    page.width, page.height = img.shape[1] * 72.0 / dpi, img.shape[0] * 72.0 / dpi
    return page


def image_frames(path: str) -> Iterator[tuple[np.ndarray, float]]:
    """(RGB array, dpi) for each frame of an image file."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise IngestError(path, "图片文件已损坏或格式无法识别", "请重新扫描或另存为PNG/JPG后重试") from exc
    with im:
        for frame in ImageSequence.Iterator(im):
            dpi = frame.info.get("dpi", (DPI, DPI))[0] or DPI
            yield np.asarray(frame.convert("RGB")), float(dpi if dpi > 50 else DPI)


def read_image(path: str) -> Document:
    """An image file (every frame of a multi-page TIFF is a page)."""
    doc = Document(path, "image")
    for n, (img, dpi) in enumerate(image_frames(path), start=1):
        doc.pages.append(_page(n, img, dpi))
    if not any(p.rows for p in doc.pages):
        raise IngestError(path, "图片中没有识别出文字", "请确认扫描清晰、方向正确")
    return doc


def pdf_page_image(page, dpi: int = DPI) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A PDF page rendered to an RGB array."""
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].copy()


def ocr_pdf_page(page, number: int, dpi: int = DPI) -> Page:  # type: ignore[no-untyped-def]
    """A scanned PDF page through OCR."""
    return _page(number, pdf_page_image(page, dpi), dpi)
