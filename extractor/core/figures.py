"""Read the numbers printed in forms: ``25万``, ``100%``, ``1,863,180``, ``—``, full-width digits,
and numbers broken by inserted spaces (``113.8699 68``)."""

from __future__ import annotations

import unicodedata

from extractor.core.lazy_regex import lazy_compile

_EMPTY = {"", "—", "-", "–", "－", "——", "/", "／", "无", "\\"}
_NUM = lazy_compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_UNIT_SUFFIX = lazy_compile(r"(万元|万|元|分|个|%)$")


def clean(text: str | None) -> str:
    """NFKC and no white space: the form in which cell texts are compared."""
    if text is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", text).split())


def parse_number(text: str | None) -> float | None:
    """The number in a cell, or None when the cell is empty, a dash, or not a plain number."""
    s = clean(text)
    if s in _EMPTY:
        return None
    s = _UNIT_SUFFIX.sub("", s)
    if not _NUM.match(s):
        return None
    return float(s.replace(",", ""))


def number_or_text(text: str | None) -> float | str | None:
    """A number when the cell holds one, None when empty, otherwise the text as printed."""
    s = clean(text)
    if s in _EMPTY:
        return None
    n = parse_number(text)
    if n is not None:
        return n
    return (text or "").strip() or None


def as_json_number(x: float | str | None) -> float | int | str | None:
    """Whole floats become ints for readable JSON."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def in_wan(number: str, unit: str) -> float:
    """A printed amount (``1,250,000`` 元, ``2.4`` 亿元, ``36.3`` 万元) in 万元."""
    v = float(number.replace(",", ""))
    return round(v / 10000, 6) if unit == "元" else round(v * 10000, 6) if unit == "亿元" else v
