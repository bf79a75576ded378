"""Scanned input: images (.png .jpg .tif, multi-page) and PDF pages without a text layer.

Pages are rendered (PDF, at ``DPI``) or loaded one at a time, so memory stays bounded, and read by
:mod:`extractor.ocr.cells`. Each page's text is rebuilt from its rows like a digital PDF's, so provenance
(page, span, box) and everything downstream are the same whatever the input.
"""

from __future__ import annotations

from extractor.core.document import Document
from extractor.core.errors import IngestError
from extractor.ocr.page_images import frame_count


def read_image(path: str) -> Document:
    """An image file (every frame of a multi-page TIFF is a page); frames are read in parallel."""
    from extractor.ocr.pages import ocr_pages

    n = frame_count(path)
    pages = ocr_pages(path, "image", list(range(n)))
    doc = Document(path, "image")
    doc.pages = [pages[i] for i in range(n)]
    if not any(p.rows for p in doc.pages):
        raise IngestError(path, "图片中没有识别出文字", "请确认扫描清晰、方向正确")
    return doc
