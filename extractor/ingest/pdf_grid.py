"""Ruled tables from a PDF page's own drawing commands: strokes and thin bars become rules, cells
are the rectangles the rules close.

A page's paths (``page.get_cdrawings()``) are cut into horizontal and vertical rules: a stroked line,
a bar thinner than 2.5 pt, or the four sides of a larger rectangle (a converter that draws every cell
as its own box). Rules on one line are merged, rules that cross belong to one table, and a table's
distinct rule positions cut it into slots. Neighbouring slots with no rule between them are one
(merged) cell; a region not closed on every side is no cell. The result has the shape of pymupdf's
``find_tables`` (a table's ``bbox`` and ``rows``, each row a list of cell boxes with ``None`` where a
cell spans into it), at a fraction of its cost: no character list of its own, no word grouping.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

_SNAP = 1.5  # rules this close are one rule
_THIN = 2.5  # a filled bar thinner than this is a rule
_MIN_LEN = 3.0  # shorter strokes are marks, not rules
_DOUBLE = 3.5  # parallel rules closer than this are one border drawn twice (no text fits between)
# a side is ruled when rules cover this share of it; a vertical rule counts from a third of the row,
# as a divider the converter drew short still parts two values (ingest.pdf._split_by_rules)
_COVER_H = 0.6
_COVER_V = 0.35


@dataclass(slots=True)
class GridRow:
    cells: list[tuple[float, float, float, float] | None]
    bbox: tuple[float, float, float, float]


@dataclass(slots=True)
class GridTable:
    bbox: tuple[float, float, float, float]
    rows: list[GridRow] = field(default_factory=list)


def _segments(paths: list[dict]) -> tuple[list[list[float]], list[list[float]]]:
    """Horizontal [y, x0, x1] and vertical [x, y0, y1] rules drawn on the page."""
    hs: list[list[float]] = []
    vs: list[list[float]] = []

    def box(x0: float, y0: float, x1: float, y1: float) -> None:
        w, h = x1 - x0, y1 - y0
        if w < _THIN and h < _THIN:
            return
        if h < _THIN:
            hs.append([(y0 + y1) / 2, x0, x1])
        elif w < _THIN:
            vs.append([(x0 + x1) / 2, y0, y1])
        else:
            hs.extend(([y0, x0, x1], [y1, x0, x1]))
            vs.extend(([x0, y0, y1], [x1, y0, y1]))

    for path in paths:
        fill = path.get("fill")
        if path.get("type") == "f" and fill is not None and min(fill) > 0.97:
            continue  # white on white: a background, not a rule
        for item in path["items"]:
            kind = item[0]
            if kind == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ay - by) < _SNAP and abs(ax - bx) >= _MIN_LEN:
                    hs.append([(ay + by) / 2, min(ax, bx), max(ax, bx)])
                elif abs(ax - bx) < _SNAP and abs(ay - by) >= _MIN_LEN:
                    vs.append([(ax + bx) / 2, min(ay, by), max(ay, by)])
            elif kind == "re":
                x0, y0, x1, y1 = item[1]
                box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            elif kind == "qu":
                pts = item[1]
                xs = [p[0] for p in pts]
                ys = [p[1] for p in pts]
                # only an upright quad is a rectangle
                if len({round(x / _SNAP) for x in xs}) <= 2 and len({round(y / _SNAP) for y in ys}) <= 2:
                    box(min(xs), min(ys), max(xs), max(ys))
    return hs, vs


def _merge(segs: list[list[float]]) -> list[list[float]]:
    """Rules on one line (within _SNAP) joined where they touch or overlap."""
    if not segs:
        return []
    segs.sort()
    lines: list[list[list[float]]] = [[segs[0]]]
    for s in segs[1:]:
        if s[0] - lines[-1][0][0] <= _SNAP:
            lines[-1].append(s)
        else:
            lines.append([s])
    out = []
    for group in lines:
        pos = sum(s[0] for s in group) / len(group)
        group.sort(key=lambda s: s[1])
        a, b = group[0][1], group[0][2]
        for _p, s0, s1 in group[1:]:
            if s0 <= b + _SNAP:
                b = max(b, s1)
            else:
                out.append([pos, a, b])
                a, b = s0, s1
        out.append([pos, a, b])
    return [s for s in out if s[2] - s[1] >= _MIN_LEN]


def _covered(spans: list[tuple[float, float]], a: float, b: float, share: float) -> bool:
    """Do these intervals cover most of [a, b]?"""
    if b - a <= 0:
        return True
    got = 0.0
    for s0, s1 in spans:
        lo, hi = max(a, s0), min(b, s1)
        if hi > lo:
            got += hi - lo
    return got >= share * (b - a)


def _positions(values: list[float]) -> list[float]:
    """Distinct rule positions: rules closer than _DOUBLE are one (a double border is one rule)."""
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] < _DOUBLE:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def _index(positions: list[float], v: float) -> int:
    """The position a rule at ``v`` was counted in."""
    k = bisect_left(positions, v)
    return min((i for i in (k - 1, k) if 0 <= i < len(positions)), key=lambda i: abs(positions[i] - v))


def _root(parent: list[int], k: int) -> int:
    """The representative of ``k`` in a union-find forest (paths halved on the way)."""
    while parent[k] != k:
        parent[k] = parent[parent[k]]
        k = parent[k]
    return k


def _table(hs: list[list[float]], vs: list[list[float]]) -> GridTable | None:
    ys = _positions([h[0] for h in hs])
    xs = _positions([v[0] for v in vs])
    if len(ys) < 2 or len(xs) < 2:
        return None
    hspans: list[list[tuple[float, float]]] = [[] for _ in ys]
    vspans: list[list[tuple[float, float]]] = [[] for _ in xs]
    for y, x0, x1 in hs:
        hspans[_index(ys, y)].append((x0, x1))
    for x, y0, y1 in vs:
        vspans[_index(xs, x)].append((y0, y1))
    nr, nc = len(ys) - 1, len(xs) - 1
    # walls: h[i][j] the rule above slot (i, j) (i == nr: below the last band); v[i][j] left of it
    hwall = [[_covered(hspans[i], xs[j], xs[j + 1], _COVER_H) for j in range(nc)] for i in range(nr + 1)]
    vwall = [[_covered(vspans[j], ys[i], ys[i + 1], _COVER_V) for j in range(nc + 1)] for i in range(nr)]
    parent = list(range(nr * nc))

    for i in range(nr):
        for j in range(nc):
            if j + 1 < nc and not vwall[i][j + 1]:
                parent[_root(parent, i * nc + j + 1)] = _root(parent, i * nc + j)
            if i + 1 < nr and not hwall[i + 1][j]:
                parent[_root(parent, (i + 1) * nc + j)] = _root(parent, i * nc + j)
    regions: dict[int, list[tuple[int, int]]] = {}
    for i in range(nr):
        for j in range(nc):
            regions.setdefault(_root(parent, i * nc + j), []).append((i, j))
    starts: dict[tuple[int, int], tuple[int, int, int, int]] = {}  # top-left slot -> slot extent
    for slots in regions.values():
        i0 = min(s[0] for s in slots)
        i1 = max(s[0] for s in slots)
        j0 = min(s[1] for s in slots)
        j1 = max(s[1] for s in slots)
        if len(slots) != (i1 - i0 + 1) * (j1 - j0 + 1):
            continue  # not a rectangle: a rule is missing somewhere inside, no cell
        closed = all(hwall[i0][j] and hwall[i1 + 1][j] for j in range(j0, j1 + 1)) and \
            all(vwall[i][j0] and vwall[i][j1 + 1] for i in range(i0, i1 + 1))
        if closed:
            starts[(i0, j0)] = (i0, j0, i1, j1)
    if not starts:
        return None
    cols = sorted({j for _i, j in starts})
    table_rows = []
    for i in sorted({i for i, _j in starts}):
        cells: list[tuple[float, float, float, float] | None] = []
        for j in cols:
            ext = starts.get((i, j))
            cells.append((xs[ext[1]], ys[ext[0]], xs[ext[3] + 1], ys[ext[2] + 1]) if ext else None)
        real = [c for c in cells if c]
        bbox = (min(c[0] for c in real), min(c[1] for c in real), max(c[2] for c in real), max(c[3] for c in real))
        table_rows.append(GridRow(cells, bbox))
    boxes = [c for r in table_rows for c in r.cells if c]
    tb = (min(c[0] for c in boxes), min(c[1] for c in boxes), max(c[2] for c in boxes), max(c[3] for c in boxes))
    return GridTable(tb, table_rows)


def ruled_tables(paths: list[dict]) -> list[GridTable]:
    """The ruled tables of a page, top to bottom, from ``page.get_cdrawings()``."""
    hs, vs = _segments(paths)
    hs, vs = _merge(hs), _merge(vs)
    if not hs or not vs:
        return []
    # rules that cross, or come within a double rule's gap of crossing, belong to one table
    n = len(hs)
    parent = list(range(n + len(vs)))

    vs_by_x = sorted(range(len(vs)), key=lambda k: vs[k][0])
    vx = [vs[k][0] for k in vs_by_x]
    for hi, (y, x0, x1) in enumerate(hs):
        for pos in range(bisect_left(vx, x0 - _DOUBLE), bisect_right(vx, x1 + _DOUBLE)):
            vi = vs_by_x[pos]
            _x, y0, y1 = vs[vi]
            if y0 - _DOUBLE <= y <= y1 + _DOUBLE:
                parent[_root(parent, n + vi)] = _root(parent, hi)
    groups: dict[int, tuple[list[list[float]], list[list[float]]]] = {}
    for hi, h in enumerate(hs):
        groups.setdefault(_root(parent, hi), ([], []))[0].append(h)
    for vi, v in enumerate(vs):
        groups.setdefault(_root(parent, n + vi), ([], []))[1].append(v)
    tables = [t for g_h, g_v in groups.values() if g_h and g_v and (t := _table(g_h, g_v))]
    tables.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
    return tables
