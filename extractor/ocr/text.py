"""OCR habits undone where they are unambiguous, and readings the recogniser cannot get right.

A cell reading only ``一``/``-`` is a dash; ``-级指标`` is ``一级指标``; spaced, full-width and
letter-for-digit numbers are put right; ``..`` is ``……``; curly quotes are re-paired. A number
followed by a bare ``m`` (the recogniser has no ㎡ or ㎥) is reported below the review threshold.
"""

from __future__ import annotations

import re

from extractor.core.lazy_regex import lazy_compile
from extractor.core.vocabulary import misread_header

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_DASH = lazy_compile(r"^[一\-－—–_~]+$")


def fix_reading(text: str) -> str:
    """The text of one cell with unambiguous OCR habits undone."""
    t = text.strip()
    if _DASH.match(t):
        return "—"
    header = misread_header(t)  # a column header with one character lost or misread
    if header is not None:
        return header
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



# rapidocr's character set has no ㎡ or ㎥: a printed 5450㎡ comes out, confidently, as 5450m
_LOST_SUPERSCRIPT = lazy_compile(r"\d\s*m(?![a-zA-Z²³0-9])")
UNSURE = 0.5


# kana are in the recogniser's character set, never in a Chinese government form: a misread glyph
KANA = lazy_compile(r"[\u3040-\u30ff]")


def doubt(text: str, conf: float | None) -> float | None:
    """The confidence to report for a cell: the recogniser's, lowered where the text holds a reading
    it cannot get right (a number followed by a bare ``m``: metres, or ㎡/㎥ it cannot print; kana)."""
    if conf is not None and (_LOST_SUPERSCRIPT.search(text) or KANA.search(text)):
        return min(conf, UNSURE)
    return conf
