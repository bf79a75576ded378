"""Scanned pages into rows of cells: prepare the page, recognise its text lines, place them in cells.

The page is prepared by :mod:`extractor.ocr.image` (seal dropout, deskew, regions, grid); rapidocr's
text boxes are placed in the cell under their centre, a box that runs over a rule is split between
its cells, and a merged cell's text goes to the first row of its span. Text outside the grid
(title, year) becomes one-cell rows. Every cell keeps its box (in PDF points, for the review app)
and the lowest OCR confidence of its text; :mod:`extractor.ocr.text` undoes OCR habits.

rapidocr runs with the models that ship inside its wheel; nothing is downloaded.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from extractor.core.document import Cell
from extractor.ocr.image import deskew, drop_red, grid_and_rules, regions, spans_down
from extractor.ocr.text import doubt, fix_reading


@lru_cache(maxsize=1)
def engine():  # type: ignore[no-untyped-def]
    """The OCR engine with its bundled default models (never another model: that would download)."""
    import os

    from rapidocr import RapidOCR

    # rapidocr resets its logger from this setting; its INFO lines are English noise for users.
    # no text-direction classifier: pages are deskewed upright, and it flips some short boxes
    # recognition one line at a time: batching pads lines to the widest of the batch, which is
    # slower on CPU and changes some readings. (Detection stays at full resolution: a downscaled
    # detector, long side 1280, was twice as fast but misplaced header boxes, 0.9945 -> 0.9870.)
    params: dict = {"Global.log_level": "error", "Global.use_cls": False, "Rec.rec_batch_num": 1}
    threads = os.environ.get("EXTRACTOR_OCR_THREADS", "")
    if threads.isdigit():  # set in parallel page workers so processes do not fight over cores
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = int(threads)
    return RapidOCR(params=params)


def recognise(img: np.ndarray) -> list[tuple[np.ndarray, str, float]]:
    """rapidocr's (box, text, score) for a whole page, read in strips so nothing is shrunk."""
    (x0, x1), strips = regions(img)
    found: list[tuple[np.ndarray, str, float]] = []
    for k, (y0, y1) in enumerate(strips):
        res = engine()(img[y0:y1, x0:x1], use_det=True, use_cls=False, use_rec=True)
        if res is None or res.txts is None:
            continue
        # where strips overlap (hard cuts), a box belongs to the strip holding its centre
        top = (y0 + strips[k - 1][1]) / 2 if k and strips[k - 1][1] > y0 else y0
        bottom = (y1 + strips[k + 1][0]) / 2 if k + 1 < len(strips) and strips[k + 1][0] < y1 else y1
        for box, text, score in zip(res.boxes, res.txts, res.scores):
            pts = np.asarray(box, dtype=float) + [x0, y0]
            if top <= pts[:, 1].mean() <= bottom:
                found.append((pts, text, float(score)))
    return found


def _crossed(x0: float, x1: float, xs: list[int], height: float) -> list[int]:
    """Indices of the cells a box from x0 to x1 covers. A box reaching into a cell by less than a
    third of its height only overhangs (the detector pads boxes); a single half-width digit reaches
    further than that (90%5 is two cells)."""
    tol = max(6.0, 0.3 * height)
    first = min(max(0, int(np.searchsorted(xs, x0 + tol)) - 1), len(xs) - 2)
    last = min(max(0, int(np.searchsorted(xs, x1 - tol)) - 1), len(xs) - 2)
    if last <= first:
        return [min(max(0, int(np.searchsorted(xs, (x0 + x1) / 2)) - 1), len(xs) - 2)]
    return list(range(first, last + 1))


def _read_line(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> tuple[str, float]:
    """Recognise one text line cut from the page (no detection)."""
    crop = img[max(0, y0):y1, max(0, x0):x1]
    if crop.size == 0 or crop.shape[1] < 4:
        return "", 0.0
    res = engine()(crop, use_det=False, use_cls=False, use_rec=True)
    txts = getattr(res, "txts", None) or ()
    scores = getattr(res, "scores", None) or ()
    text = "".join(txts).strip()
    return text, float(min(scores)) if scores and text else 0.0


def _split_across(img: np.ndarray, text: str, score: float, pts: np.ndarray,
                  xs: list[int]) -> list[tuple[int, str, float, float]]:
    """(cell index, text, x, confidence) pieces of one OCR box; a box over vertical rules is split.

    Blur and faint rules make the detector join neighbouring cells (``90% 5``, ``|2.75|2.75``,
    ``90%优5``). Where the text breaks at spaces or ``|`` into as many pieces as the box crosses
    cells, each piece goes to its cell in order; otherwise each cell's part of the box is read again
    on its own.
    """
    x0, x1 = float(pts[:, 0].min()), float(pts[:, 0].max())
    cells = _crossed(x0, x1, xs, float(pts[:, 1].max() - pts[:, 1].min()))
    if len(cells) == 1:
        return [(cells[0], text, (x0 + x1) / 2, score)]
    pieces = [p for p in re.split(r"[\s|｜]+", text) if p]
    if len(pieces) == len(cells):
        return [(ci, piece, (xs[ci] + xs[ci + 1]) / 2, score) for ci, piece in zip(cells, pieces)]
    y0, y1 = int(pts[:, 1].min()), int(np.ceil(pts[:, 1].max()))
    out = []
    for ci in cells:
        a, b = max(int(x0), xs[ci] + 4), min(int(np.ceil(x1)), xs[ci + 1] - 3)
        piece, conf = _read_line(img, a, y0, b, y1)
        piece = piece.strip("|｜ ")
        if piece:
            out.append((ci, piece, (a + b) / 2, min(conf, score)))
    return out


def page_cells(img: np.ndarray, scale: float) -> list[tuple[float, list[Cell], bool]]:
    """(y, cells, in the grid) rows of one page image; boxes are scaled to PDF points."""
    img, _angle = deskew(drop_red(img))  # the review app shows the page turned by the same angle
    boxes = recognise(img)
    bands, horiz = grid_and_rules(img)
    placed: dict[tuple[int, int], list[tuple[float, float, str, float]]] = {}
    outside: list[tuple[float, float, str, float, Any]] = []
    for box, text, score in boxes:
        pts = np.asarray(box)
        cx, cy = float(pts[:, 0].mean()), float(pts[:, 1].mean())
        for bi, (y0, y1, xs) in enumerate(bands):
            if y0 <= cy <= y1 and xs[0] <= cx <= xs[-1]:
                for ci, piece, px, conf in _split_across(img, text, float(score), pts, xs):
                    placed.setdefault((bi, ci), []).append((cy, px, piece, conf))
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
            if spans_down(horiz, y0, xs[ci], xs[ci + 1]):
                top = bi - 1
                aci = above.index(xs[ci])
                while top > 0 and (top, aci) not in placed and bands[top - 1][2].count(xs[ci]) and \
                        spans_down(horiz, bands[top][0], xs[ci], xs[ci + 1]):
                    top -= 1
                    aci = bands[top][2].index(xs[ci])
                # a merged cell's value belongs to its first row, wherever its text sits vertically
                placed.setdefault((top, aci), []).extend(placed.pop((bi, ci)))
    rows: list[tuple[float, list[Cell], bool]] = []
    for bi, (y0, y1, xs) in enumerate(bands):
        cells = []
        for ci in range(len(xs) - 1):
            bits = sorted(placed.get((bi, ci), []), key=lambda b: (round(b[0] / 12), b[1]))
            text = fix_reading("".join(b[2] for b in bits))
            conf = doubt(text, min((b[3] for b in bits), default=None))
            bbox = (xs[ci] * scale, y0 * scale, xs[ci + 1] * scale, y1 * scale)
            cells.append(Cell(text, bbox=tuple(round(v, 2) for v in bbox), confidence=conf))
        rows.append((y0 * scale, cells, True))
    for cy, _cx, text, score, pts in sorted(outside, key=lambda o: (o[0], o[1])):
        x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        text = fix_reading(text)
        bbox = (round(x0 * scale, 2), round(y0 * scale, 2), round(x1 * scale, 2), round(y1 * scale, 2))
        rows.append((y0 * scale, [Cell(text, bbox=bbox, confidence=doubt(text, score))], False))
    rows.sort(key=lambda r: r[0])
    return rows
