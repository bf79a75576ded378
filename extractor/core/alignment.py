"""Indicator rows of two readings of one form paired by name, as the evaluation scorer pairs them
(NFKC, no white space, numbers by value; sequence alignment, then a fuzzy pass). The LLM step uses
it to pair the model's rows with the parser's; the scorer in :mod:`evalkit` uses the same code."""

from __future__ import annotations

import difflib
import unicodedata
from typing import Any


def norm(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return round(float(v), 6)
    s = unicodedata.normalize("NFKC", str(v))
    s = "".join(s.split())
    if s in ("", "—", "-", "–"):
        return None
    try:
        return round(float(s.rstrip("%")), 6) if s.replace(".", "", 1).rstrip("%").isdigit() else s
    except ValueError:
        return s


def align_rows(grows: list[dict], prows: list[dict]) -> dict[int, int]:
    a = [norm(r.get("name")) for r in grows]
    b = [norm(r.get("name")) for r in prows]
    sm = difflib.SequenceMatcher(None, [str(x) for x in a], [str(x) for x in b], autojunk=False)
    m: dict[int, int] = {}
    for blk in sm.get_matching_blocks():
        for k in range(blk.size):
            m[blk.a + k] = blk.b + k
    free_b = [j for j in range(len(b)) if j not in m.values()]
    for i in range(len(a)):
        if i in m:
            continue
        for j in free_b:
            if difflib.SequenceMatcher(None, str(a[i]), str(b[j])).ratio() >= 0.6:
                m[i] = j
                free_b.remove(j)
                break
    return m
