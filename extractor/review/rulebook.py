"""The rule table: flag code -> Chinese title, severity, basis, check function.

Rules live in :mod:`extractor.review.rules_values` and :mod:`extractor.review.rules_scores`; each registers here
with :func:`rule`. A rule takes a :class:`FormContext` and returns flags (data, never exceptions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from extractor.core.config import ReviewConfig
from extractor.core.figures import clean
from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import LOW_READING_CONFIDENCE, Flag, Form, Indicator, SourceRef
from extractor.core.vocabulary import strip_points
from extractor.reading.confidence import odd_name

# Below this confidence the indicator table is taken as not read at all (a column-wise dump cut
# into pieces): only rows that hold together are judged; the rest are listed for reading by hand.
UNREAD_TABLE_CONFIDENCE = 0.5
# OCR letters where digits or characters belong (``第O份``, ``tot扁``): capitals O/I/l beside
# characters, or lower-case runs glued to them; upper-case acronyms (PM2.5, APP, GDP) are not.
_GARBLED = lazy_compile(r"[\u4e00-\u9fff][a-z]+|[a-z]+[\u4e00-\u9fff]|[\u4e00-\u9fff][OIl](?![A-Za-z])")


def unread_rows(form: Form) -> tuple[set[int], str | None]:
    """Rows too doubtful to judge one by one, and why (Chinese) when it is the whole table: a table
    read below :data:`UNREAD_TABLE_CONFIDENCE` that the LLM step did not rebuild, else the rows whose
    name is OCR garble or, on a doubtful reading, a figure or a one-character fragment (on a sure
    one the form itself printed its target as the name: ``2.46万``)."""
    rebuilt = form.llm is not None and not form.llm.error and any(
        str(x.get("field", "")).startswith("indicators") for x in form.llm.filled)
    doubtful = form.confidence < LOW_READING_CONFIDENCE  # a sure reading: a figure as name is the form's own
    bad = {i for i, ind in enumerate(form.indicators)
           if ind.name and (doubtful and odd_name(ind.name) or _GARBLED.search(clean(ind.name)))}
    if form.indicators and form.confidence < UNREAD_TABLE_CONFIDENCE and not rebuilt:
        # only a row that holds together is judged: a whole name, its 分值 and 得分 read, 0 ≤ 得分 ≤ 分值
        whole = {i for i, ind in enumerate(form.indicators) if i not in bad and ind.name and ind.weight is not None
                 and ind.score is not None and 0 <= ind.score <= ind.weight}
        return set(range(len(form.indicators))) - whole, f"指标表读取置信度{form.confidence:.2f}，多数行未读出"
    return bad, None


@dataclass
class FormContext:
    """A form under review, with the figures several rules need."""

    form: Form
    cfg: ReviewConfig

    @property
    def project(self) -> str:
        return self.form.project_name or "（无项目名称的表格残片）"

    @cached_property
    def unread(self) -> set[int]:
        """Rows too doubtful to judge one by one (:func:`unread_rows`)."""
        return unread_rows(self.form)[0]

    def ind_label(self, i: int) -> str:
        ind = self.form.indicators[i]
        name = _WRAP_SPACE.sub("", (ind.name or "").strip())
        return f"“{name or f'第{i + 1}项指标'}”"

    def where(self, i: int | None, field: str) -> SourceRef | None:
        if i is None:
            return self.form.sources.get(field)
        return self.form.indicators[i].sources.get(field)

    @cached_property
    def computed_rate(self) -> float | None:
        """全年执行数 ÷ 全年预算数 × 100, from the total row."""
        t = self.form.funds.total
        ex, fy = amount(t.executed), amount(t.full_year)
        if ex is not None and fy:
            return ex / fy * 100
        return None

    @property
    def printed_rate(self) -> float | None:
        """The 执行率 the form prints, as a number (a cell kept as text, ``94%成``, by its leading figure)."""
        return amount(self.form.funds.total.rate)

    @property
    def figures_rate(self) -> float | None:
        """The execution rate the figures give, else the printed one."""
        r = self.computed_rate
        return r if r is not None else self.printed_rate

    @property
    def rate(self) -> float | None:
        """The execution rate: the printed one, else the computed one."""
        r = self.printed_rate
        return r if r is not None else self.computed_rate

    def level1_core(self, ind: Indicator) -> str:
        """产出 / 效益 / 满意度 / 成本 / '' for an indicator's first level."""
        t = strip_points(ind.level1 or "")
        for core in ("产出", "效益", "满意度", "成本"):
            if core in t:
                return core
        return ""

    def level2_text(self, ind: Indicator) -> str:
        return clean(ind.level2)

    def flag(self, code: str, message: str, *, indicator: int | None = None, evidence: str = "",
             field: str | None = None, suggestion: str | None = None, severity: str | None = None,
             self_score: float | None = None, expected_score: float | None = None) -> Flag:
        r = RULES[code]
        where = self.where(indicator, field) if field else None
        return Flag(code=code, severity=severity or r.severity, indicator=indicator, message=message,
                    evidence=evidence, where=where, suggestion=suggestion, basis=r.basis,
                    self_score=self_score, expected_score=expected_score)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table."""

    code: str
    title: str
    severity: str
    basis: str
    check: Callable[[FormContext], Iterable[Flag]]


RULES: dict[str, Rule] = {}


def rule(code: str, title: str, severity: str, basis: str):  # type: ignore[no-untyped-def]
    """Register a check under its flag code."""
    def deco(fn: Callable[[FormContext], Iterable[Flag]]) -> Callable[[FormContext], Iterable[Flag]]:
        RULES[code] = Rule(code, title, severity, basis, fn)
        return fn
    return deco


_WRAP_SPACE = lazy_compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")  # PDF line wraps inside a cell
_LEADING = lazy_compile(r"^\s*([\d]+(?:\.\d+)?)\s*(?:万元|万|元)?[^\d.]*$")


def amount(v: float | str | None) -> float | None:
    """A funds cell as a number for arithmetic: a number, or the leading number of a cell with a
    stray character (``23.380701万元成``); never a garbled figure (``145.40556.6``)."""
    if isinstance(v, (int, float)):
        return float(v)
    m = _LEADING.match(v or "")
    return float(m.group(1)) if m else None


def fmt(x: float | str | None) -> str:
    """A number as an evaluator writes it (a cell kept as printed text stays as printed)."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return f"{x:.2f}".rstrip("0").rstrip(".")


# The rule modules register themselves on import; importing them here makes RULES whole for every
# reader of the table (triage titles, the app, the exports), not only for processes that ran a review.
# At the end of the module: they import FormContext and rule from here.
from extractor.review import rules_scores, rules_values  # noqa: E402, F401, I001
