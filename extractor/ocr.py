"""Scanned pages into rows of cells: deskew, find the ruling lines, OCR, place text in cells.

The image is deskewed from its long horizontal rules, the table grid is read from the ruling
lines (row bands between horizontal rules, cell edges from the vertical rules crossing each band),
and rapidocr's text boxes are placed in the cell under their centre. Text outside the grid (title,
year) becomes one-cell rows. Every cell keeps its box (in PDF points, for the review app) and the
lowest OCR confidence of its text. OCR habits are undone where they are unambiguous: a cell reading
only ``一``/``-`` is a dash, and ``-级指标`` is ``一级指标``.

rapidocr runs with the models that ship inside its wheel; nothing is downloaded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from extractor.document import Cell

LOW_CONFIDENCE = 0.85


@lru_cache(maxsize=1)
def engine():  # type: ignore[no-untyped-def]
    """The OCR engine with its bundled default models (never another model: that would download)."""
    from rapidocr import RapidOCR

    import os

    # rapidocr resets its logger from this setting; its INFO lines are English noise for users.
    # no text-direction classifier: pages are deskewed upright, and it flips some short boxes
    params: dict = {"Global.log_level": "error", "Global.use_cls": False}
    threads = os.environ.get("EXTRACTOR_OCR_THREADS", "")
    if threads.isdigit():  # set in parallel page workers so processes do not fight over cores
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = int(threads)
    return RapidOCR(params=params)


def deskew(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotate so that the long horizontal rules are level; returns (image, angle in degrees)."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    edges = cv2.Canny(gray, 50, 150)
    h, w = gray.shape
    lines = cv2.HoughLinesP(edges, 1, np.pi / 1800, threshold=200, minLineLength=w // 4, maxLineGap=10)
    angles = []
    for x1, y1, x2, y2 in (np.asarray(lines).reshape(-1, 4) if lines is not None else []):
        a = np.degrees(np.arctan2(y2 - y1, x2 - x1))
        if abs(a) < 5:
            angles.append(a)
    if not angles:
        return img, 0.0
    angle = float(np.median(angles))
    if abs(angle) < 0.05:
        return img, 0.0
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255) if img.ndim == 3 else 255)
    return rotated, angle


def _positions(mask: np.ndarray, axis: int, min_share: float) -> list[int]:
    """Centres of rule lines: runs of rows (axis=1) or columns (axis=0) dense enough in the mask."""
    prof = mask.sum(axis=axis) / 255
    length = mask.shape[axis]
    hits = np.where(prof > min_share * length)[0]
    out: list[int] = []
    start = prev = None
    for i in hits:
        if start is None:
            start = prev = i
        elif i - prev > 3:
            out.append((start + prev) // 2)
            start = i
        prev = i
    if start is not None:
        out.append((start + prev) // 2)
    return out


def grid(img: np.ndarray) -> list[tuple[int, int, list[int]]]:
    """Row bands (y0, y1) with the x positions of the vertical rules that cross each band."""
    return grid_and_rules(img)[0]


def grid_and_rules(img: np.ndarray) -> tuple[list[tuple[int, int, list[int]]], np.ndarray]:
    """The bands, and the mask of horizontal rules (to tell a row-spanning cell from two cells)."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    h, w = binary.shape
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(30, w // 30), 1)))
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(15, h // 80))))
    ys = _positions(horiz, 1, 0.15)
    # every x where some vertical rule runs, page-wide; then per band, the ones that cross it
    columns = _positions(vert, 0, 0.03)
    bands = []
    for y0, y1 in zip(ys, ys[1:]):
        if y1 - y0 < 8:
            continue
        band = vert[y0 + 3:max(y0 + 4, y1 - 2), :]
        if band.size == 0:
            continue
        xs = []
        for x in columns:
            lo, hi = max(0, x - 3), min(w, x + 4)
            coverage = (band[:, lo:hi] > 0).any(axis=1).mean()
            if coverage >= 0.4:
                xs.append(x)
        if len(xs) >= 2:
            bands.append((y0, y1, xs))
    return bands, horiz


def _spans_down(horiz: np.ndarray, y: int, x0: int, x1: int) -> bool:
    """No horizontal rule at y between x0 and x1: the cell above continues below (a row span)."""
    lo, hi = max(0, y - 3), min(horiz.shape[0], y + 4)
    seg = horiz[lo:hi, x0 + 4:max(x0 + 5, x1 - 4)]
    return seg.size > 0 and (seg > 0).any(axis=0).mean() < 0.3


_DASH = re.compile(r"^[一\-－—–_~]+$")


def _fix(text: str) -> str:
    t = text.strip()
    if _DASH.match(t):
        return "—"
    return re.sub(r"^[-－]级", "一级", t)


def page_cells(img: np.ndarray, scale: float) -> list[tuple[float, list[Cell], bool]]:
    """(y, cells, in the grid) rows of one page image; boxes are scaled to PDF points."""
    img, _angle = deskew(img)
    res = engine()(img)
    boxes = list(zip(res.boxes, res.txts, res.scores)) if res is not None and res.txts is not None else []
    bands, horiz = grid_and_rules(img)
    placed: dict[tuple[int, int], list[tuple[float, float, str, float]]] = {}
    outside: list[tuple[float, float, str, float, Any]] = []
    for box, text, score in boxes:
        pts = np.asarray(box)
        cx, cy = float(pts[:, 0].mean()), float(pts[:, 1].mean())
        for bi, (y0, y1, xs) in enumerate(bands):
            if y0 <= cy <= y1 and xs[0] <= cx <= xs[-1]:
                ci = max(0, int(np.searchsorted(xs, cx)) - 1)
                placed.setdefault((bi, ci), []).append((cy, cx, text, float(score)))
                break
        else:
            outside.append((cy, cx, text, float(score), pts))
    # text of a row-spanning cell that wrapped into the band below belongs to the cell where it starts
    for bi in range(1, len(bands)):
        y0, _y1, xs = bands[bi]
        above = bands[bi - 1][2]
        for ci in range(len(xs) - 1):
            if (bi, ci) not in placed or xs[ci] not in above or xs[ci + 1] not in above:
                continue
            if _spans_down(horiz, y0, xs[ci], xs[ci + 1]):
                top = bi - 1
                aci = above.index(xs[ci])
                while top > 0 and (top, aci) not in placed and bands[top - 1][2].count(xs[ci]) and \
                        _spans_down(horiz, bands[top][0], xs[ci], xs[ci + 1]):
                    top -= 1
                    aci = bands[top][2].index(xs[ci])
                if (top, aci) in placed:
                    placed[(top, aci)] += placed.pop((bi, ci))
    rows: list[tuple[float, list[Cell], bool]] = []
    for bi, (y0, y1, xs) in enumerate(bands):
        cells = []
        for ci in range(len(xs) - 1):
            bits = sorted(placed.get((bi, ci), []), key=lambda b: (round(b[0] / 12), b[1]))
            text = _fix("".join(b[2] for b in bits))
            conf = min((b[3] for b in bits), default=None)
            bbox = (xs[ci] * scale, y0 * scale, xs[ci + 1] * scale, y1 * scale)
            cells.append(Cell(text, bbox=tuple(round(v, 2) for v in bbox), confidence=conf))
        rows.append((y0 * scale, cells, True))
    for cy, _cx, text, score, pts in sorted(outside, key=lambda o: (o[0], o[1])):
        x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        rows.append((y0 * scale, [Cell(_fix(text), bbox=(round(x0 * scale, 2), round(y0 * scale, 2),
                                                         round(x1 * scale, 2), round(y1 * scale, 2)),
                                       confidence=score)], False))
    rows.sort(key=lambda r: r[0])
    return rows
