"""Cut a run of glued digits into the figures it was printed as.

A converter that drops every separator prints ``12 | 12 | 12 | 10`` as ``12121210`` and a 总分
row ``100 | 98`` as ``10098``. The run alone cannot say where it splits; the table can: the
columns it fills (an amount, a 分值, a 得分), and the form's arithmetic (a score never above its
weight, 执行率 = 执行数 ÷ 预算数). This module lists the readings a run allows; the table readers
score them.
"""

from __future__ import annotations

from functools import lru_cache

from extractor.core.lazy_regex import lazy_compile

_NUMBER = lazy_compile(r"^(?:0|[1-9]\d*)(?:\.\d+)?$")
_DIGITS = lazy_compile(r"^[\d.]+$")
_BARE_POINT = lazy_compile(r"^\.\d+$")


def is_run(text: str) -> bool:
    """Digits (and decimal points) only, long enough to hold two figures. A run that begins with a
    point (``.32.06.5``: a host that dropped the digits before every point) is one too."""
    if len(text) < 2 or not _DIGITS.match(text) or text.endswith("."):
        return False
    return not text.startswith(".") or text.count(".") >= 2


@lru_cache(maxsize=65536)
def splits(text: str, k: int, max_decimals: int = 2) -> tuple[tuple[str, ...], ...]:
    """Every way to read ``text`` as ``k`` figures (no leading zeros, at most ``max_decimals``
    decimals each). ``splits("10098", 2)`` holds ``("100", "98")``."""
    out: list[tuple[str, ...]] = []

    def rec(pos: int, left: int, acc: tuple[str, ...]) -> None:
        if len(out) > 400:
            return
        if left == 1:
            piece = text[pos:]
            if _ok(piece, max_decimals):
                out.append(acc + (piece,))
            return
        for end in range(pos + 1, len(text) - left + 2):
            piece = text[pos:end]
            if not _ok(piece, max_decimals):
                if piece.count(".") > 1:
                    break
                continue
            rec(end, left - 1, acc + (piece,))

    if k <= 0 or len(text) < k:
        return ()
    bare_points = text.startswith(".")

    def _ok(piece: str, max_decimals: int) -> bool:
        return _fits(piece, max_decimals, bare_points)

    rec(0, k, ())
    return tuple(out)


def _fits(piece: str, max_decimals: int, bare_points: bool) -> bool:
    if bare_points and _BARE_POINT.match(piece):
        return len(piece) - 1 <= max_decimals
    if not piece or not _NUMBER.match(piece):
        return False
    if "." in piece and len(piece.split(".")[1]) > max_decimals:
        return False
    return True


def plausible_weight(x: float) -> float:
    """How much a 分值 looks like one: small round numbers (2, 5, 10, 20), at most 100."""
    if x <= 0 or x > 100:
        return -4.0
    score = 0.0
    if x != int(x):
        score -= 0.6 if abs(x * 2 - round(x * 2)) < 1e-9 else 1.2
    if x > 40:
        score -= 1.0
    return score
