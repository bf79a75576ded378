"""Page images as OCR reads them: frames of image files (one decoded at a time) and PDF pages
rendered at ``DPI``."""

from __future__ import annotations

import numpy as np

from extractor.core.errors import IngestError

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


def pdf_page_image(page, dpi: int = DPI) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A PDF page rendered to an RGB array."""
    pix = page.get_pixmap(dpi=dpi, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.h, pix.w, pix.n)[:, :, :3].copy()


def page_image(path: str, index: int, pdf: bool) -> tuple[np.ndarray, float]:
    """(RGB array, dpi) of page ``index`` (0-based) as OCR reads it: a PDF page rendered at ``DPI``,
    or one frame of an image file."""
    if not pdf:
        return image_frame(path, index)
    from extractor.core.mupdf import pymupdf

    with pymupdf.open(path) as doc:
        return pdf_page_image(doc[index], DPI), float(DPI)
