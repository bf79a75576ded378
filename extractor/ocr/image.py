"""Page images made ready to read, and their geometry: seal dropout, deskew, the regions to read,
and the table grid from the ruling lines.

A page with a red seal is read through its red channel; it is deskewed from its long horizontal
rules; blank margins are cut off and a page taller than the recogniser's limit is cut into strips
between text lines; the grid is row bands between horizontal rules, each with the x positions of
the vertical rules that cross it.
"""

from __future__ import annotations

import numpy as np


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


def skew_angle(img: np.ndarray) -> float:
    """The angle (degrees) that levels the page's long horizontal rules; 0 when there are none."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    h, w = gray.shape
    # lines are found on a copy at most 1000 px wide: a quarter of the work, and a rule a quarter of
    # the page long still fixes the angle to better than 0.1 degree
    k = min(1.0, 1000 / w)
    small = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else gray
    edges = cv2.Canny(small, 50, 150)
    sw = small.shape[1]
    # only the edges along long, nearly level runs of ink (rules, thickened by a few pixels so a tilt
    # of some degrees keeps them whole) go to the Hough transform: text edges were most of its work
    dark = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    runs = cv2.morphologyEx(cv2.dilate(dark, np.ones((5, 1), np.uint8)), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, sw // 40), 1)))
    edges &= cv2.dilate(runs, np.ones((5, 5), np.uint8))
    lines = cv2.HoughLinesP(edges, 1, np.pi / 1800, threshold=int(200 * k), minLineLength=sw // 4,
                            maxLineGap=max(3, int(10 * k)))
    angles = []
    for x1, y1, x2, y2 in (np.asarray(lines).reshape(-1, 4) if lines is not None else []):
        a = np.degrees(np.arctan2(y2 - y1, x2 - x1))
        if abs(a) < 5:
            angles.append(a)
    angle = float(np.median(angles)) if angles else 0.0
    return angle if abs(angle) >= 0.05 else 0.0


def rotate(img: np.ndarray, angle: float) -> np.ndarray:
    """The page turned by ``angle`` degrees about its centre, corners filled white."""
    import cv2

    if not angle:
        return img
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255) if img.ndim == 3 else 255)


def deskew(img: np.ndarray) -> tuple[np.ndarray, float]:
    """Rotate so that the long horizontal rules are level; returns (image, angle in degrees)."""
    angle = skew_angle(img)
    return rotate(img, angle), angle


def _binary(img: np.ndarray) -> np.ndarray:
    """Ink as 255 on 0, thresholded against the local background (uneven light, JPEG noise)."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)


def _opened(binary: np.ndarray, width: int, height: int) -> np.ndarray:
    """Only the ink in straight runs at least ``width`` × ``height`` long: ruling lines."""
    import cv2

    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (width, height)))


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


DRIFT = 14  # pixels a rule may move sideways across a photographed page, after deskew


def grid_and_rules(img: np.ndarray) -> tuple[list[tuple[int, int, list[int]]], np.ndarray]:
    """Row bands (y0, y1) with the x positions of the vertical rules that cross each band, and the
    mask of horizontal rules (to tell a row-spanning cell from two cells)."""
    binary = _binary(img)
    h, w = binary.shape
    horiz = _opened(binary, max(30, w // 30), 1)
    vert = _opened(binary, 1, max(15, h // 80))
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


def spans_down(horiz: np.ndarray, y: int, x0: int, x1: int) -> bool:
    """No horizontal rule at y between x0 and x1: the cell above continues below (a row span)."""
    lo, hi = max(0, y - 3), min(horiz.shape[0], y + 4)
    seg = horiz[lo:hi, x0 + 4:max(x0 + 5, x1 - 4)]
    return seg.size > 0 and (seg > 0).any(axis=0).mean() < 0.3


# rapidocr shrinks any image whose long side exceeds this (Global.max_side_len) before detection
# and crops the text lines from the shrunk image; a tall page loses most of its resolution that way
MAX_SIDE = 2000


def _ink(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(all ink, ink other than ruling lines) as boolean masks of the page."""
    import cv2

    w = img.shape[1]
    binary = _binary(img)
    lines = cv2.dilate(_opened(binary, max(30, w // 30), 1) | _opened(binary, 1, 25), np.ones((5, 5), np.uint8))
    ink = binary > 0
    return ink, ink & (lines == 0)


def text_ink(img: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(ink other than ruling lines as a boolean mask, the page in grey, the page's ink/paper
    threshold by Otsu) for finding the text lines of its cells."""
    import cv2

    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return _ink(img)[1], gray, float(level)


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
