"""Scanned pages into rows of cells: prepare the page, find its grid, read each cell.

The page is prepared by :mod:`extractor.ocr.image` (seal dropout, deskew, regions, grid). Where a
ruled grid is found each cell is read on its own (:func:`_grid_text`): its text lines found from the
ink, cut out and recognised without the detector, a merged cell read whole as the first row of its
span. The detector runs only outside the grid (title, year) and on pages without rules; its boxes
become one-cell rows. Every cell keeps its box (in PDF points, for the review app) and the lowest
OCR confidence of its text; :mod:`extractor.ocr.text` undoes OCR habits.

rapidocr runs with the models that ship inside its wheel; nothing is downloaded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from extractor.core.document import Cell
from extractor.ocr.image import deskew, drop_red, grid_and_rules, regions, spans_down
from extractor.ocr.text import KANA, UNSURE, doubt, fix_reading


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
    # lines narrower than the recogniser's input are padded to it: 160 px instead of rapidocr's 320
    # at 48 px high (most cells hold a few characters), 1.6 times less work, the same readings
    params: dict = {"Global.log_level": "error", "Global.use_cls": False, "Rec.rec_batch_num": 1,
                    "Rec.rec_img_shape": [3, 48, 160]}
    threads = os.environ.get("EXTRACTOR_OCR_THREADS", "")
    if threads.isdigit():  # set in parallel page workers so processes do not fight over cores
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = int(threads)
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = int(threads)
    return RapidOCR(params=params)


# rapidocr's detector scales an image up until its short side is this long (Det.limit_side_len with
# limit_type min): a 100-pixel strip of title would be read at seven times its size, for nothing.
DET_MIN_SIDE = 736


def _at_least(img: np.ndarray, side: int) -> np.ndarray:
    """The image on a white sheet at least ``side`` pixels each way (top left kept at the origin), so
    the detector reads it at its own scale."""
    h, w = img.shape[:2]
    if h >= side and w >= side:
        return img
    sheet = np.full((max(h, side), max(w, side), *img.shape[2:]), 255, dtype=img.dtype)
    sheet[:h, :w] = img
    return sheet


def recognise(img: np.ndarray) -> list[tuple[np.ndarray, str, float]]:
    """rapidocr's (box, text, score) for a whole page, read in strips so nothing is shrunk."""
    (x0, x1), strips = regions(img)
    found: list[tuple[np.ndarray, str, float]] = []
    for k, (y0, y1) in enumerate(strips):
        res = engine()(_at_least(img[y0:y1, x0:x1], DET_MIN_SIDE), use_det=True, use_cls=False, use_rec=True)
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


def _owners(bands: list[tuple[int, int, list[int]]], horiz: np.ndarray) -> dict[tuple[int, int], tuple[int, int]]:
    """Each grid slot (band, column) mapped to the cell it belongs to: a slot with no rule above it
    and the same side rules as the slot above continues that cell (a row span), whose first row owns it."""
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for bi, (y0, _y1, xs) in enumerate(bands):
        above = bands[bi - 1][2] if bi else []
        for ci in range(len(xs) - 1):
            key = (bi, ci)
            if bi and xs[ci] in above and xs[ci + 1] in above and spans_down(horiz, y0, xs[ci], xs[ci + 1]):
                key = owner[(bi - 1, above.index(xs[ci]))]
            owner[(bi, ci)] = key
    return owner


_INSET = 3  # pixels kept clear of a cell's rules above and below
_SIDE = 5  # and beside it: a vertical rule left over after deskew reads as 1, l or |
_SPECK = 12  # ink blobs smaller than this (pixels) are scanner noise, not strokes: a 。 at 150 dpi has ~20
_FAINT = 12  # a blob whose darkest pixel is not this far below the ink/paper threshold is a fold or scratch


def _strokes(mask: np.ndarray, gray: np.ndarray, level: float) -> np.ndarray:
    """The mask without what is not print: tiny blobs (noise, JPEG specks) and faint ones (the grey
    trace of a fold or a scratch; faded print still has a dark core)."""
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    darkest = np.full(n, 255, dtype=np.int32)
    np.minimum.at(darkest, labels.ravel(), gray.ravel())
    keep = (stats[:, cv2.CC_STAT_AREA] >= _SPECK) & (darkest < level - _FAINT)
    keep[0] = False
    return keep[labels]


Run = tuple[int, int, int, int, int]  # x0, y0, x1, y1 of a run of inked pixel rows, and its ink


def _ink_runs(ink: tuple[np.ndarray, np.ndarray, float], x0: int, y0: int, x1: int, y1: int) -> list[Run]:
    """Runs of pixel rows holding ink inside a cell (rules and specks removed; a gap of a row or two
    closed), top to bottom: a text line, or a part of one (一, 二 and 三 are one to three thin runs).
    ``ink`` is :func:`extractor.ocr.image.text_ink` of the page."""
    a0, b0, a1, b1 = x0 + _SIDE, y0 + _INSET, x1 - _SIDE + 1, y1 - _INSET + 1
    mask, gray, level = ink
    sub = mask[b0:b1, a0:a1]
    if sub.size == 0:
        return []
    raw, sub = sub, _strokes(sub, gray[b0:b1, a0:a1], level)
    rows = np.flatnonzero(sub.any(axis=1))
    if rows.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(rows) > 2)
    out = []
    last = sub.shape[0] - 1
    for lo, hi in zip(np.r_[rows[0], rows[cuts + 1]], np.r_[rows[cuts], rows[-1]]):
        part = sub[lo:hi + 1]
        cols = np.flatnonzero(part.any(axis=0))
        # small marks just beside the line are its punctuation (the dots of ：, a 。 broken up by the
        # scan): the line reaches them, a line height at most
        near = np.flatnonzero(raw[lo:hi + 1].any(axis=0))
        near = near[(near >= cols[0] - (hi - lo + 1)) & (near <= cols[-1] + (hi - lo + 1))]
        cols = np.r_[near, cols]
        cols.sort()
        if hi - lo < 12 and (lo <= 1 or hi >= last - 1):
            continue  # cut off at the cell's top or bottom: the stub of a rule meeting it there
        if hi - lo <= 4 and cols[-1] - cols[0] >= 0.6 * sub.shape[1] > 60:
            continue  # a thin stroke across the cell: a rule left over by deskew, not a dash
        out.append((a0 + int(cols[0]), b0 + int(lo), a0 + int(cols[-1]) + 1, b0 + int(hi) + 1, int(part.sum())))
    return out


def _line_height(runs: list[Run]) -> float:
    """The page's character height: the median height of the runs tall enough to be whole lines."""
    tall = sorted(r[3] - r[1] for r in runs if r[3] - r[1] >= 10)
    return float(tall[len(tall) // 2]) if tall else 24.0


def _lines(runs: list[Run], height: float) -> list[tuple[int, int, int, int]]:
    """Runs joined into text lines: neighbours that fit together in one character height are one
    line (the strokes of 二 and 三, a comma below its line); a stray dot or a scratch is no line."""
    out: list[list[int]] = []
    for x0, y0, x1, y1, ink in runs:
        last = out[-1] if out else None
        short = min(y1 - y0, (last[3] - last[1]) if last else 0) < 0.7 * height
        if last is not None and short and y1 - last[1] <= 1.25 * height:
            last[0], last[2], last[3], last[4] = min(last[0], x0), max(last[2], x1), y1, last[4] + ink
        else:
            out.append([x0, y0, x1, y1, ink])
    # a character has strokes: a faint scratch or a few specks in a row is not one (a 1 at 150 dpi
    # is two pixels wide along its height; a scratch, one or two pixels here and there)
    return [(x0, y0, x1, y1) for x0, y0, x1, y1, ink in out if ink >= 1.5 * height and ink >= 1.8 * (y1 - y0)]


MARGINS = ((0.35, 0.2), (0.25, 0.3), (0.5, 0.3))  # (beside, above and below) a line, in line heights


def _crop(img: np.ndarray, line: tuple[int, int, int, int], cell: tuple[int, int, int, int],
          height: float, margin: tuple[float, float] = MARGINS[0]) -> np.ndarray:
    """A text line cut out with a margin as the detector's boxes have, at least a character tall
    (a lone 一 is a thin stroke), kept inside its cell's rules."""
    x0, y0, x1, y1 = line
    if y1 - y0 < height:  # centred in a box of the page's line height
        mid, half = (y0 + y1) / 2, height / 2
        y0, y1 = round(mid - half), round(mid + half)
    h = y1 - y0
    px, py = max(4, round(margin[0] * h)), max(3, round(margin[1] * h))
    cx0, cy0, cx1, cy1 = cell
    return img[max(cy0 + _INSET - 1, y0 - py):min(cy1 - _INSET + 2, y1 + py),
               max(cx0 + _SIDE - 1, x0 - px):min(cx1 - _SIDE + 2, x1 + px)]


def _read_crops(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """rapidocr's recogniser over cut-out text lines (no detection). A reading that skipped a printed
    glyph (one outside its character set, such as ㎡, is dropped without a trace) is reported at
    :data:`~extractor.ocr.text.UNSURE`, so the cell goes to a person."""
    if not crops:
        return []
    from rapidocr.ch_ppocr_rec import TextRecInput

    res = engine()._load_rec_model()(TextRecInput(img=crops, return_word_box=True))
    out = []
    for crop, text, score, words in zip(crops, res.txts or (), res.scores or (), res.word_results or ()):
        score = float(score)
        if _skipped_glyph(crop, words):
            score = min(score, UNSURE)
        out.append((str(text).strip(), score))
    return out


def _skipped_glyph(crop: np.ndarray, words) -> bool:  # type: ignore[no-untyped-def]
    """Is there printed ink before, between or after the characters the recogniser read, a third of a
    character wide, where it read nothing? ``words`` holds the output step of each character."""
    cols = [c for group in (getattr(words, "word_cols", None) or []) for c in group]
    steps = float(getattr(words, "line_txt_len", 0) or 0)
    if len(cols) < 2 or steps <= 0:
        return False
    import cv2

    gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) if crop.ndim == 3 else crop
    _level, dark = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    inked = dark.sum(axis=0) >= 2
    scale = crop.shape[1] / steps  # pixels per output step
    # before the first character read and after the last (a glyph half erased at a line's start)
    head, tail = int((cols[0] - 2) * scale), int((cols[-1] + 3) * scale)
    if inked[:max(0, head)].sum() >= 0.3 * crop.shape[0] or inked[tail:].sum() >= 0.3 * crop.shape[0]:
        return True
    gaps = np.diff(cols)
    typical = float(np.median(gaps))
    for a, b, gap in zip(cols, cols[1:], gaps):
        if gap < typical + 4:  # no room for a character between these two
            continue
        # clear of the two characters read (each some two steps either side of its own step)
        x0, x1 = int((a + 2) * scale), int((b - 2) * scale)
        if x1 > x0 and inked[x0:x1].sum() >= 0.3 * crop.shape[0]:
            return True
    return False


def _grid_text(img: np.ndarray, bands, horiz) -> dict[tuple[int, int], list[tuple[float, float, str, float]]]:
    """The text of every grid cell, read cell by cell: the lines inside it found from the ink, each
    recognised without running the detector. A merged cell is read whole, as its first row's."""
    from extractor.ocr.image import text_ink as ink_of

    owner = _owners(bands, horiz)
    extent: dict[tuple[int, int], list[int]] = {}
    for (bi, ci), key in owner.items():
        y0, y1, xs = bands[bi]
        box = extent.setdefault(key, [xs[ci], y0, xs[ci + 1], y1])
        box[1], box[3] = min(box[1], y0), max(box[3], y1)
    ink = ink_of(img)
    runs = {key: _ink_runs(ink, *box) for key, box in extent.items()}
    height = _line_height([r for rs in runs.values() for r in rs])
    pieces: list[tuple[tuple[int, int], tuple[int, ...], list[tuple[int, int, int, int]]]] = []
    spots = []
    for key, box in extent.items():
        found = [ln for ln in _lines(runs[key], height) if ln[2] - ln[0] >= 2]
        for group in _groups(found, height):
            pieces.append((key, tuple(box), group))
            spots.append(((group[0][1] + group[0][3]) / 2, (group[0][0] + group[0][2]) / 2))
    readings = _read_crops([_piece(img, box, group, height) for _key, box, group in pieces])
    # a doubtful reading (low score, or kana: a misread glyph) is read again cut a little wider and
    # narrower; the best-scored reading without kana stands. About one piece in twenty.
    again = [k for k, (text, score) in enumerate(readings) if score < REREAD_BELOW or KANA.search(text)]
    if again:
        tries = [k for k in again for _m in MARGINS[1:]]
        images = [_piece(img, pieces[k][1], pieces[k][2], height, m) for k in again for m in MARGINS[1:]]
        for k, got in zip(tries, _read_crops(images)):
            best = readings[k]
            if (bool(KANA.search(got[0])), -got[1]) < (bool(KANA.search(best[0])), -best[1]):
                readings[k] = got
    placed: dict[tuple[int, int], list[tuple[float, float, str, float]]] = {}
    for (key, _box, _group), (cy, cx), (text, score) in zip(pieces, spots, readings):
        if text and score >= TEXT_SCORE:
            placed.setdefault(key, []).append((cy, cx, text, score))
    return placed


_REC_H = 48  # the recogniser's input height
_GAP = 12  # white between two lines of a cell set side by side
_PIECE_WIDTH = 2400  # at most this wide: the recogniser's attention grows faster than its input


def _groups(lines: list[tuple[int, int, int, int]], height: float) -> list[list[tuple[int, int, int, int]]]:
    """A cell's lines in reading order, in runs short enough to be read as one line."""
    out: list[list[tuple[int, int, int, int]]] = []
    width = 0.0
    for ln in lines:
        w = (ln[2] - ln[0]) * _REC_H / max(ln[3] - ln[1], height) + _GAP
        if out and width + w <= _PIECE_WIDTH:
            out[-1].append(ln)
            width += w
        else:
            out.append([ln])
            width = w
    return out


def _piece(img: np.ndarray, cell: tuple[int, int, int, int], group: list[tuple[int, int, int, int]],
           height: float, margin: tuple[float, float] = MARGINS[0]) -> np.ndarray:
    """The lines of a cell cut out and set side by side at the recogniser's height, so that a line's
    last few characters are read in the context of the line before (an isolated 提升。 reads 提み。)."""
    import cv2

    crops = [_crop(img, ln, cell, height, margin) for ln in group]
    if len(crops) == 1:
        return crops[0]
    parts = []
    for c in crops:
        k = _REC_H / c.shape[0]
        parts.append(cv2.resize(c, (max(1, round(c.shape[1] * k)), _REC_H),
                                interpolation=cv2.INTER_LINEAR if k > 1 else cv2.INTER_AREA))
        parts.append(np.full((_REC_H, _GAP, *c.shape[2:]), 255, dtype=c.dtype))
    return np.concatenate(parts[:-1], axis=1)


TEXT_SCORE = 0.5  # rapidocr's own floor for a detected line (Global.text_score)
REREAD_BELOW = 0.9  # a line read with less confidence is read again with other margins


def _outside(img: np.ndarray, bands) -> list[tuple[np.ndarray, str, float]]:
    """Text boxes above, below and between the grid's bands (title, year, notes), found by the detector."""
    spans, y = [], 0
    for y0, y1, _xs in bands:
        if y0 - y > 12:
            spans.append((y, y0))
        y = max(y, y1)
    if img.shape[0] - y > 12:
        spans.append((y, img.shape[0]))
    found = []
    for a, b in spans:
        for pts, text, score in recognise(img[a:b]):
            found.append((pts + [0, a], text, score))
    return found


def page_cells(img: np.ndarray, scale: float) -> list[tuple[float, list[Cell], bool]]:
    """(y, cells, in the grid) rows of one page image; boxes are scaled to PDF points.

    Where the page has a ruled grid, each cell is read on its own (:func:`_grid_text`) and the
    detector runs only over the page outside the grid; a page without rules is read by detection.
    """
    img, _angle = deskew(drop_red(img))  # the review app shows the page turned by the same angle
    bands, horiz = grid_and_rules(img)
    placed = _grid_text(img, bands, horiz) if bands else {}
    outside: list[tuple[float, float, str, float, Any]] = []
    for box, text, score in (_outside(img, bands) if bands else recognise(img)):
        pts = np.asarray(box)
        outside.append((float(pts[:, 1].mean()), float(pts[:, 0].mean()), text, float(score), pts))
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
