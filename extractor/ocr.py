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



@lru_cache(maxsize=1)
def engine():  # type: ignore[no-untyped-def]
    """The OCR engine with its bundled default models (never another model: that would download)."""
    from rapidocr import RapidOCR

    import os

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


def deskew(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotate so that the long horizontal rules are level; returns (image, angle in degrees)."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    h, w = gray.shape
    # lines are found on a copy at most 1000 px wide: a quarter of the work, and a rule a quarter of
    # the page long still fixes the angle to better than 0.1 degree
    k = min(1.0, 1000 / w)
    small = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else gray
    edges = cv2.Canny(small, 50, 150)
    sw = small.shape[1]
    lines = cv2.HoughLinesP(edges, 1, np.pi / 1800, threshold=int(200 * k), minLineLength=sw // 4,
                            maxLineGap=max(3, int(10 * k)))
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


DRIFT = 14  # pixels a rule may move sideways across a photographed page, after deskew


def grid_and_rules(img: np.ndarray) -> tuple[list[tuple[int, int, list[int]]], np.ndarray]:
    """The bands, and the mask of horizontal rules (to tell a row-spanning cell from two cells)."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    h, w = binary.shape
    horiz = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(30, w // 30), 1)))
    vert = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(15, h // 80))))
    ys = _positions(horiz, 1, 0.15)
    # every x where some vertical rule runs within the ruled part of the page (a last page may hold
    # only the 总分 row); then per band, the ones that cross it
    columns = _positions(vert[ys[0]:ys[-1] + 1] if len(ys) >= 2 else vert, 0, 0.03)
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
            if coverage < 0.4:
                # a photographed page is not only rotated: perspective moves a rule by a few pixels
                # from band to band, so look a little to the side, for a rule that clearly crosses
                lo, hi = max(0, x - DRIFT), min(w, x + DRIFT + 1)
                per_x = (band[:, lo:hi] > 0).mean(axis=0)
                found = lo + int(per_x.argmax()) if per_x.size else -1
                # the rule found there must not be another column's own rule
                coverage = float(per_x.max()) if per_x.size and per_x.max() >= 0.7 and \
                    all(abs(c - found) > DRIFT // 2 for c in columns if c != x) else 0.0
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


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_DASH = re.compile(r"^[一\-－—–_~]+$")


def _fix(text: str) -> str:
    t = text.strip()
    if _DASH.match(t):
        return "—"
    t = re.sub(r"^[-－]级", "一级", t).translate(_FULLWIDTH_DIGITS)
    t = re.sub(r"(?<=指标)[A-Za-z|!]$", "", t)  # a rule fragment read as a letter after a label
    # a rule or speck read as a stroke after a number (10一, 5_): the stroke means nothing there
    t = re.sub(r"^(\d+(?:\.\d+)?%?)\s*[一\-_~]+$", r"\1", t)
    # letters the recogniser takes for digits, in a cell that is otherwise a number (o → 0, l → 1)
    if len(t) <= 12 and re.fullmatch(r"[\dOoIl.%]+", t) and (re.search(r"\d", t) or t in ("o", "O")):
        t = t.translate(str.maketrans("OoIl", "0011"))
    if re.fullmatch(r"[\d.%\s]*\d[\d.%\s]*", t):  # widely spaced (full-width) digits: 1 2.4 8
        t = re.sub(r"\s+", "", t)
    # the Chinese ellipsis …… comes out as a run of full stops (never between digits: 1..2 stays)
    t = re.sub(r"(?<![\d.])(?:\.{2,}|。{2,})(?![\d.])", "……", t)
    return _pair_quotes(t)


def _pair_quotes(t: str) -> str:
    """OCR confuses “ and ” (and plain "); Chinese double quotes come in pairs, so an even number of
    them is re-paired in order. An odd number is left as read."""
    marks = [i for i, ch in enumerate(t) if ch in "“”\""]
    if not marks or len(marks) % 2 or not any("\u4e00" <= ch <= "\u9fff" for ch in t):
        return t
    out = list(t)
    for k, i in enumerate(marks):
        out[i] = "“" if k % 2 == 0 else "”"
    return "".join(out)


# rapidocr shrinks any image whose long side exceeds this (Global.max_side_len) before detection
# and crops the text lines from the shrunk image; a tall page loses most of its resolution that way
MAX_SIDE = 2000


def _ink(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(all ink, ink other than ruling lines) as boolean masks of the page."""
    import cv2

    h, w = img.shape[:2]
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(30, w // 30), 1)))
    lines |= cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 25)))
    lines = cv2.dilate(lines, np.ones((5, 5), np.uint8))
    ink = binary > 0
    return ink, ink & (lines == 0)


def _extent(counts: np.ndarray, floor: int, margin: int) -> tuple[int, int] | None:
    hits = np.where(counts > floor)[0]
    if hits.size == 0:
        return None
    return max(0, int(hits[0]) - margin), min(len(counts), int(hits[-1]) + margin + 1)


def regions(img: np.ndarray) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """Where to read a page: its inked columns (x0, x1), and horizontal strips (y0, y1) of the inked
    rows, none taller than the OCR limit, cut where no text is. Blank margins are never read.

    A cut goes through a run of pixel rows without ink other than ruling lines, nearest below the
    limit; if there is none in the lower half of a strip, the cut is hard and the next strip starts
    ``OVERLAP`` above it (boxes are then kept by whichever strip holds their centre).
    """
    h, w = img.shape[:2]
    ink, text_ink = _ink(img)
    ys = _extent(ink.sum(axis=1), max(2, w // 200), 12)
    xs = _extent(ink.sum(axis=0), max(2, h // 200), 12)
    if ys is None or xs is None:
        return (0, w), []
    top, bottom = ys
    limit = max(MAX_SIDE, xs[1] - xs[0])  # a wide page is shrunk anyway; strips as tall as it is wide
    clear = text_ink.sum(axis=1) <= 2
    out, y0 = [], top
    while bottom - y0 > limit:
        lo, hi = y0 + limit // 2, y0 + limit
        cand = np.where(clear[lo:hi])[0]
        if cand.size:
            end = start = int(cand[-1])  # the middle of the lowest clear run
            while start - 1 >= 0 and clear[lo + start - 1]:
                start -= 1
            cut = lo + (start + end) // 2
            out.append((y0, cut))
            y0 = cut
        else:
            out.append((y0, hi + OVERLAP))
            y0 = hi - OVERLAP
    out.append((y0, bottom))
    return xs, out


OVERLAP = 80


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


def drop_red(img: np.ndarray) -> np.ndarray:
    """Colour dropout of red seals: their rings look like table rules and their ink hides text.

    A page with red on it is read through its red channel, as document scanners do: red ink turns
    nearly white there, while black (and blue) print stays dark, also where a seal lies over it.
    """
    if img.ndim != 3:
        return img
    rgb = img.astype(np.int16)
    r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    red = (r > 110) & (r - np.maximum(g, b) > 45)
    if red.sum() < 0.0005 * red.size:
        return img
    out = img[:, :, 0].copy()
    out[red & (r > 150)] = 255  # seal ink over paper: white; over print (red < 150 there) it stays
    return np.repeat(out[:, :, None], 3, axis=2)


# rapidocr's character set has no ㎡ or ㎥: a printed 5450㎡ comes out, confidently, as 5450m
_LOST_SUPERSCRIPT = re.compile(r"\d\s*m(?![a-zA-Z²³0-9])")
UNSURE = 0.5


def _doubt(text: str, conf: float | None) -> float | None:
    """The confidence to report for a cell: the recogniser's, lowered where the text holds a reading
    it cannot get right (a number followed by a bare ``m``: metres, or ㎡/㎥ it cannot print)."""
    if conf is not None and _LOST_SUPERSCRIPT.search(text):
        return min(conf, UNSURE)
    return conf


def page_cells(img: np.ndarray, scale: float) -> list[tuple[float, list[Cell], bool]]:
    """(y, cells, in the grid) rows of one page image; boxes are scaled to PDF points."""
    img, _angle = deskew(drop_red(img))
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
            if _spans_down(horiz, y0, xs[ci], xs[ci + 1]):
                top = bi - 1
                aci = above.index(xs[ci])
                while top > 0 and (top, aci) not in placed and bands[top - 1][2].count(xs[ci]) and \
                        _spans_down(horiz, bands[top][0], xs[ci], xs[ci + 1]):
                    top -= 1
                    aci = bands[top][2].index(xs[ci])
                # a merged cell's value belongs to its first row, wherever its text sits vertically
                placed.setdefault((top, aci), []).extend(placed.pop((bi, ci)))
    rows: list[tuple[float, list[Cell], bool]] = []
    for bi, (y0, y1, xs) in enumerate(bands):
        cells = []
        for ci in range(len(xs) - 1):
            bits = sorted(placed.get((bi, ci), []), key=lambda b: (round(b[0] / 12), b[1]))
            text = _fix("".join(b[2] for b in bits))
            conf = _doubt(text, min((b[3] for b in bits), default=None))
            bbox = (xs[ci] * scale, y0 * scale, xs[ci + 1] * scale, y1 * scale)
            cells.append(Cell(text, bbox=tuple(round(v, 2) for v in bbox), confidence=conf))
        rows.append((y0 * scale, cells, True))
    for cy, _cx, text, score, pts in sorted(outside, key=lambda o: (o[0], o[1])):
        x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
        rows.append((y0 * scale, [Cell(_fix(text), bbox=(round(x0 * scale, 2), round(y0 * scale, 2),
                                                         round(x1 * scale, 2), round(y1 * scale, 2)),
                                       confidence=_doubt(text, score))], False))
    rows.sort(key=lambda r: r[0])
    return rows
