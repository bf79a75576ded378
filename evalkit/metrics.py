"""Score an export against a gold file exactly as ``../shared/score_export.py`` does, returning
tallies that can be summed over files (so the eval command can report totals as well).

Same matching (forms by name, then fuzzy, fragments by first indicator; rows by sequence
alignment), same normalisation (NFKC, no white space, dashes as null, numbers by value, a trailing
``(N分)`` ignored on levels). A test checks the figures against the shared scorer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from extractor.core.alignment import align_rows, norm  # noqa: F401  (the scorer's own rules)
from extractor.core.records import REPORT_SCALARS

_POINTS = re.compile(r"[(（]\s*\d+(?:\.\d+)?\s*分\s*[)）]$")


def eq(a: Any, b: Any, level: bool = False) -> bool:
    a, b = norm(a), norm(b)
    if level and isinstance(a, str) and isinstance(b, str):
        a, b = _POINTS.sub("", a), _POINTS.sub("", b)
    return a == b


SCALARS = ["year", "project_name", "department", "implementing_unit", "project_lead", "phone",
           "goal_expected", "goal_actual", "total_weight", "total_score"]
FUND_ROWS = ["total", "fiscal", "carryover", "other"]
FUND_COLS = ["initial", "full_year", "executed"]
TOTAL_EXTRA = ["weight", "rate", "score"]
IND_FIELDS = ["level1", "level2", "name", "target", "actual", "weight", "score", "deviation"]


def _fund(form: dict, row: str, col: str) -> Any:
    return ((form.get("funds") or {}).get(row) or {}).get(col)


def match_forms(gold: list[dict], pred: list[dict]) -> tuple[list[tuple[int, int | None]], int]:
    used: set[int] = set()
    pairs: list[tuple[int, int | None]] = []
    for gi, g in enumerate(gold):
        best = None
        gname = norm(g.get("project_name"))
        for pi, p in enumerate(pred):
            if pi in used:
                continue
            if gname is not None and norm(p.get("project_name")) == gname:
                best = pi
                break
        if best is None and gname is not None:
            scored = [(difflib.SequenceMatcher(None, str(gname), str(norm(p.get("project_name")) or "")).ratio(), pi)
                      for pi, p in enumerate(pred) if pi not in used]
            if scored:
                r, pi = max(scored)
                if r >= 0.8:
                    best = pi
        if best is None and gname is None:
            gi0 = norm((g.get("indicators") or [{}])[0].get("name"))
            for pi, p in enumerate(pred):
                if pi in used or norm(p.get("project_name")) is not None:
                    continue
                pinds = p.get("indicators") or [{}]
                if norm(pinds[0].get("name")) == gi0:
                    best = pi
                    break
        if best is not None:
            used.add(best)
        pairs.append((gi, best))
    return pairs, len(pred) - len(used)


@dataclass
class Score:
    """Tallies for one or more files."""

    per: dict[str, list[int]] = field(default_factory=dict)
    rows_gold: int = 0
    rows_pred: int = 0
    rows_hit: int = 0
    forms_gold: int = 0
    forms_pred: int = 0
    extra_forms: int = 0
    missing: list[Any] = field(default_factory=list)
    vague: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0})
    unmeasured: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0})
    mismatches: list[str] = field(default_factory=list)
    codes: dict[str, dict[str, int]] = field(default_factory=dict)  # per flag code: tp/fp/fn
    flag_misses: list[str] = field(default_factory=list)
    wrong: list[tuple[int, str]] = field(default_factory=list)  # (predicted form, field path) read wrong
    wrong_marked: list[int] = field(default_factory=lambda: [0, 0])  # wrong OCR values marked / all
    report_per: dict[str, list[int]] = field(default_factory=dict)  # narrative reports: per field [ok, n]
    report_items: dict[str, int] = field(default_factory=lambda: {"tp": 0, "fp": 0, "fn": 0})  # 问题/建议 items
    reports_gold: int = 0
    reports_pred: int = 0
    report_cases: int = 0  # gold files that score narrative reports only
    report_misses: list[str] = field(default_factory=list)

    def tally(self, key: str, ok: bool) -> None:
        c = self.per.setdefault(key, [0, 0])
        c[0] += bool(ok)
        c[1] += 1

    def add(self, other: "Score") -> None:
        for k, (ok, n) in other.per.items():
            c = self.per.setdefault(k, [0, 0])
            c[0] += ok
            c[1] += n
        for a in ("rows_gold", "rows_pred", "rows_hit", "forms_gold", "forms_pred", "extra_forms"):
            setattr(self, a, getattr(self, a) + getattr(other, a))
        self.missing += other.missing
        for mine, theirs in ((self.vague, other.vague), (self.unmeasured, other.unmeasured)):
            for k in mine:
                mine[k] += theirs[k]
        self.mismatches += other.mismatches
        for code, st in other.codes.items():
            mine = self.codes.setdefault(code, {"tp": 0, "fp": 0, "fn": 0})
            for k in mine:
                mine[k] += st[k]
        self.flag_misses += other.flag_misses
        self.wrong_marked = [a + b for a, b in zip(self.wrong_marked, other.wrong_marked)]
        for k, (ok, n) in other.report_per.items():
            c = self.report_per.setdefault(k, [0, 0])
            c[0] += ok
            c[1] += n
        for k in self.report_items:
            self.report_items[k] += other.report_items[k]
        self.reports_gold += other.reports_gold
        self.reports_pred += other.reports_pred
        self.report_cases += other.report_cases
        self.report_misses += other.report_misses

    @property
    def report_accuracy(self) -> float:
        """Field accuracy over the narrative reports' fields."""
        ok = sum(v[0] for v in self.report_per.values())
        n = sum(v[1] for v in self.report_per.values())
        return ok / n if n else 0.0

    def report_line(self) -> str:
        """The narrative reports' figures in one line."""
        p, r, f = self.prf(self.report_items)
        return (f"reports gold={self.reports_gold} pred={self.reports_pred} report_fields={self.report_accuracy:.4f} "
                f"items P={p:.3f} R={r:.3f} F1={f:.3f} {self.report_items}")

    @property
    def field_accuracy(self) -> float:
        ok = sum(v[0] for v in self.per.values())
        n = sum(v[1] for v in self.per.values())
        return ok / n if n else 0.0

    @property
    def rows_prf(self) -> tuple[float, float, float]:
        p = self.rows_hit / self.rows_pred if self.rows_pred else 0.0
        r = self.rows_hit / self.rows_gold if self.rows_gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    @staticmethod
    def prf(st: dict[str, int]) -> tuple[float, float, float]:
        p = st["tp"] / (st["tp"] + st["fp"]) if st["tp"] + st["fp"] else 0.0
        r = st["tp"] / (st["tp"] + st["fn"]) if st["tp"] + st["fn"] else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def summary_line(self) -> str:
        """The scorer's last line."""
        return (f"field_accuracy={self.field_accuracy:.4f} rows_f1={self.rows_prf[2]:.4f} "
                f"vague_f1={self.prf(self.vague)[2]:.4f} unmeasured_f1={self.prf(self.unmeasured)[2]:.4f}")

    def code_report(self) -> str:
        """Precision and recall of every flag code against the gold forms' ``problems``."""
        lines = []
        for code in sorted(self.codes):
            st = self.codes[code]
            p, r, f = self.prf(st)
            lines.append(f"{code:26s} P={p:.3f} R={r:.3f} F1={f:.3f} tp={st['tp']} fp={st['fp']} fn={st['fn']}")
        return "\n".join(lines)

    def report(self) -> str:
        """The scorer's full printout."""
        lines = [f"{k:22s} {ok:5d}/{n:<5d} {ok / n:6.1%}" for k, (ok, n) in sorted(self.per.items())]
        lines.append(f"forms: gold={self.forms_gold} pred={self.forms_pred} "
                     f"unmatched_gold={len(self.missing)} extra_pred={self.extra_forms}")
        if self.missing:
            lines.append(f"  missing: {self.missing[:10]}")
        p, r, _ = self.rows_prf
        lines.append(f"indicator rows: gold={self.rows_gold} pred={self.rows_pred} matched={self.rows_hit} P={p:.3f} R={r:.3f}")
        for label, st in (("vague-target     ", self.vague), ("unmeasured-actual", self.unmeasured)):
            vp, vr, vf = self.prf(st)
            lines.append(f"{label} P={vp:.3f} R={vr:.3f} F1={vf:.3f} {st}")
        lines.append(self.summary_line())
        return "\n".join(lines)


ITEM_MATCH = 0.85  # a 问题/建议 item is found when its text shares this much of the gold item's (difflib ratio)


def _same_item(a: str, b: str) -> bool:
    x, y = norm(a) or "", norm(b) or ""
    return x == y or difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() >= ITEM_MATCH


def score_reports(s: Score, gold: list[dict], pred: list[dict]) -> None:
    """Narrative reports, matched in order: each field as forms' fields are compared; projects by name
    in order (name and amount); problem and suggestion items matched in order (precision/recall)."""
    s.reports_gold += len(gold)
    s.reports_pred += len(pred)
    for n, g in enumerate(gold):
        p = pred[n] if n < len(pred) else None
        label = f"报告{n + 1}"
        if p is None:
            s.report_misses.append(f"{label}: 未找到")
        for k in REPORT_SCALARS:
            ok = p is not None and eq(g.get(k), p.get(k))
            c = s.report_per.setdefault(k, [0, 0])
            c[0] += ok
            c[1] += 1
            if not ok and p is not None:
                s.report_misses.append(f"{label} · {k}: 标准={g.get(k)!r} 抽取={p.get(k)!r}")
        theirs = list((p or {}).get("projects") or [])
        for gp in g.get("projects") or []:
            hit = next((q for q in theirs if eq(gp.get("name"), q.get("name"))), None)
            for k in ("name", "amount"):
                c = s.report_per.setdefault(f"projects.{k}", [0, 0])
                ok = hit is not None and eq(gp.get(k), hit.get(k))
                c[0] += ok
                c[1] += 1
            if hit is None:
                s.report_misses.append(f"{label} · 项目缺失: {gp.get('name')!r}")
            else:
                theirs.remove(hit)
        for k in ("problems", "suggestions"):
            want, got = list(g.get(k) or []), list((p or {}).get(k) or [])
            j = 0
            for item in want:
                at = next((x for x in range(j, len(got)) if _same_item(item, got[x])), None)
                if at is None:
                    s.report_items["fn"] += 1
                    s.report_misses.append(f"{label} · {k} 漏: {item[:40]!r}")
                else:
                    s.report_items["tp"] += 1
                    s.report_items["fp"] += at - j  # items read between two found ones are extra
                    j = at + 1
            s.report_items["fp"] += len(got) - j
            for extra in got[j:]:
                s.report_misses.append(f"{label} · {k} 多: {extra[:40]!r}")
    for p in pred[len(gold):]:
        s.report_misses.append(f"误报报告: {p.get('title')!r}")
        s.report_items["fp"] += len(p.get("problems") or []) + len(p.get("suggestions") or [])


def score(gold: dict, pred: dict) -> Score:
    """Score one export against one gold file (a gold with ``reports`` and no ``forms`` scores the
    narrative reports only)."""
    s = Score()
    if "reports" in gold:
        score_reports(s, gold["reports"], pred.get("reports") or [])
        if "forms" not in gold:
            s.report_cases = 1
            return s
    gforms, pforms = gold["forms"], pred.get("forms", [])
    s.forms_gold, s.forms_pred = len(gforms), len(pforms)
    pairs, s.extra_forms = match_forms(gforms, pforms)
    for gi, pi in pairs:
        g = gforms[gi]
        p = pforms[pi] if pi is not None else {}
        if pi is None:
            s.missing.append(g.get("project_name"))
        label = g.get("project_name") or f"残片#{gi + 1}"
        for k in SCALARS:
            if k in ("project_lead", "phone") and g.get(k) is None:
                continue
            ok = pi is not None and eq(g.get(k), p.get(k))
            s.tally(k, ok)
            if not ok and pi is not None:
                s.mismatches.append(f"{label} · {k}: 标准={g.get(k)!r} 抽取={p.get(k)!r}")
                s.wrong.append((pi, k))
        for r in FUND_ROWS:
            for c in FUND_COLS + (TOTAL_EXTRA if r == "total" else []):
                ok = pi is not None and eq(_fund(g, r, c), _fund(p, r, c))
                s.tally(f"funds.{c}", ok)
                if not ok and pi is not None:
                    s.mismatches.append(f"{label} · funds.{r}.{c}: 标准={_fund(g, r, c)!r} 抽取={_fund(p, r, c)!r}")
                    s.wrong.append((pi, f"funds.{r}.{c}"))
        grows, prows = g.get("indicators") or [], p.get("indicators") or []
        s.rows_gold += len(grows)
        s.rows_pred += len(prows)
        m = align_rows(grows, prows) if pi is not None else {}
        s.rows_hit += len(m)
        flags = p.get("flags") or []
        vague_idx = {f.get("indicator") for f in flags if f.get("code") == "vague-target"}
        unmeas_idx = {f.get("indicator") for f in flags if f.get("code") == "unmeasured-actual"}
        inv = {v: k for k, v in m.items()}
        for i, gr in enumerate(grows):
            j = m.get(i)
            pr = prows[j] if j is not None else {}
            if j is None and pi is not None:
                s.mismatches.append(f"{label} · 指标缺失: {gr.get('name')!r}")
            for f in IND_FIELDS:
                ok = j is not None and eq(gr.get(f), pr.get(f), level=f in ("level1", "level2"))
                s.tally(f"ind.{f}", ok)
                if not ok and j is not None:
                    s.mismatches.append(f"{label} · 指标{i + 1}.{f}: 标准={gr.get(f)!r} 抽取={pr.get(f)!r}")
                    s.wrong.append((pi, f"indicators.{j}.{f}"))
            for key, idx, st in (("target_quantified", vague_idx, s.vague), ("actual_measured", unmeas_idx, s.unmeasured)):
                if key not in gr:
                    continue
                truth = gr[key] is False
                said = j is not None and j in idx
                if truth and said:
                    st["tp"] += 1
                elif truth:
                    st["fn"] += 1
                elif said:
                    st["fp"] += 1
        if pi is not None and "problems" in g:
            _score_problems(s, label, g, flags, m)
        if pi is not None:
            for idx, st in ((vague_idx, s.vague), (unmeas_idx, s.unmeasured)):
                for j in idx:
                    if j is not None and j not in inv:
                        st["fp"] += 1
    return s


BOOLEAN_CODES = ("vague-target", "unmeasured-actual")


def _score_problems(s: Score, label: str, g: dict, flags: list[dict], m: dict[int, int]) -> None:
    """Match predicted flags with the gold form's problems by (code, aligned indicator)."""
    gold = set()
    for prob in g.get("problems") or []:
        i = prob.get("indicator")
        gold.add((prob["code"], None if i is None else m.get(i, -1 - i)))
    pred = {(f.get("code"), f.get("indicator")) for f in flags if f.get("code") not in BOOLEAN_CODES}
    inv = {v: k for k, v in m.items()}
    for key in gold | pred:
        code = key[0]
        st = s.codes.setdefault(code, {"tp": 0, "fp": 0, "fn": 0})
        if key in gold and key in pred:
            st["tp"] += 1
        elif key in gold:
            st["fn"] += 1
            where = "" if key[1] is None else f" 指标{inv.get(key[1], key[1]) + 1 if isinstance(key[1], int) and key[1] >= 0 else '?'}"
            s.flag_misses.append(f"漏报 {label} · {code}{where}")
        else:
            st["fp"] += 1
            where = "" if key[1] is None else f" 指标{inv.get(key[1], key[1]) + 1}"
            s.flag_misses.append(f"误报 {label} · {code}{where}")
