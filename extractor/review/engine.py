"""The review stage: run every enabled rule on every form, re-score it, and give it a risk score.

Risk = (Σ weight of its flags (per-code weight if configured, else by severity; each code counted at
most ``per_code_cap`` times; a flag resting on a low-confidence OCR reading at ``shaky_weight``) + gap
weight × max(0, self total − recomputed total)) × the form's reading confidence (at least
``trust_floor``), so forms whose self-score looks inflated rise to the top of the triage list
(domain.md §4 item 11) and a garbled fragment's misread findings do not.
"""

from __future__ import annotations

import re

from extractor.core.config import ReviewConfig, load_config
from extractor.core.figures import clean
from extractor.core.quantity import quantity
from extractor.core.records import FIGURE_FIELDS, LOW_READING_CONFIDENCE, ExtractionResult, Form, readings_to_check
from extractor.review import (
    rules_scores,  # noqa: F401  (register the rules)
    rules_values,  # noqa: F401  (register the rules)
)
from extractor.review.report_rules import review_report
from extractor.review.rescore import rescore_form
from extractor.review.rulebook import RULES, FormContext, unread_rows

SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}


# Checks that rest on the table's structure and arithmetic: on a form whose reading is doubtful they
# would report the misreading, not the form, so they are not run there.
STRUCTURE_CODES = frozenset({"weights-not-100", "score-sum-mismatch", "rate-mismatch", "budget-score-mismatch",
                             "score-over-weight", "full-score-shortfall", "score-formula", "missing-dimension",
                             "weight-allocation", "misclassified"})


def doubtful_reading(form: Form) -> str | None:
    """Why a form's reading is too doubtful for arithmetic and structure checks, or None."""
    if form.confidence < LOW_READING_CONFIDENCE:
        return f"读取置信度{form.confidence:.2f}偏低"
    weighted = [i for i in form.indicators if i.weight is not None]
    echo = [i for i in weighted if (q := quantity(i.target)) is not None and q.op == "=" and abs(q.value - i.weight) < 1e-9
            and re.fullmatch(r"[\d.]+\s*[\u4e00-\u9fff]{0,2}", clean(i.target) or "")]
    if len(echo) >= 2 and len(echo) * 3 >= len(weighted):
        return f"{len(echo)}项指标的分值与其指标值相同，分值列疑似读自指标值列"
    return None


def review_form(form: Form, cfg: ReviewConfig) -> Form:
    """Attach flags, the rescoring and the risk score to one form (in place; returned for chaining)."""
    ctx = FormContext(form, cfg)
    flags = []
    doubt = doubtful_reading(form)
    if doubt:
        form.warnings.append(f"{doubt}，未做计分与结构类审核（分值合计、得分、执行率、指标维度等），请人工阅读原表")
    for code, r in RULES.items():
        if code in cfg.rules.disabled or (doubt and code in STRUCTURE_CODES):
            continue
        try:
            flags.extend(r.check(ctx))
        except Exception as exc:  # one rule failing on one form never loses the form or the batch
            form.warnings.append(f"审核规则“{r.title}”在此表上出错，未给出该项意见（{type(exc).__name__}: {exc}）；"
                                 "其余规则照常审核，请人工复核该项并将此表反馈给维护人员")
    unread, why = unread_rows(form)
    if unread:
        kept = [f for f in flags if f.indicator is None or f.indicator not in unread]
        if len(kept) < len(flags):
            rows = "、".join(str(i + 1) for i in sorted({f.indicator for f in flags if f.indicator in unread}))
            form.warnings.append(f"{why or '部分指标行的名称像是数值、残片或识别错字'}：第{rows}行未逐行审核，请人工阅读原表")
        flags = kept
    flags.sort(key=lambda f: (f.indicator if f.indicator is not None else -1, SEVERITY_ORDER[f.severity]))
    shaky = _note_shaky_evidence(form, flags)
    form.flags = flags
    try:
        form.rescore = rescore_form(form, cfg)
    except Exception as exc:
        form.warnings.append(f"重算得分时出错（{type(exc).__name__}: {exc}），本表未重算，请人工复核")
    weights = {"error": cfg.risk.error, "warn": cfg.risk.warn, "info": cfg.risk.info}
    gap = form.rescore.gap if form.rescore.gap is not None else 0.0
    seen: dict[str, int] = {}
    risk = 0.0
    for k, f in enumerate(flags):  # repeats of one code count up to the cap: breadth of problems matters more
        seen[f.code] = seen.get(f.code, 0) + 1
        if seen[f.code] <= cfg.risk.per_code_cap:
            w = cfg.risk.code_weights.get(f.code, weights[f.severity])
            risk += w * (cfg.risk.shaky_weight if k in shaky else 1.0)
    # how far the reading can be trusted: a garbled fragment's many findings are mostly misreadings
    trust = max(cfg.risk.trust_floor, min(1.0, form.confidence if form.confidence is not None else 1.0))
    form.risk = round((risk + cfg.risk.gap_weight * max(0.0, gap)) * trust, 2)
    return form


SHAKY_NOTE = "（所依据的数值为扫描件OCR低置信度读数，请先对照原件核对该数值）"


def _shaky_readings(form: Form) -> tuple[list[str], dict[int, list[str]]]:
    """Figures read by OCR that the reviewer must check, as printed: the form's (header and funds
    values of any kind, indicator figures), and each indicator's figures."""
    values: list[str] = []
    per_indicator: dict[int, list[str]] = {}
    for path, value, _conf in readings_to_check(form):
        text = f"{value:g}" if isinstance(value, float) else str(value if value is not None else "").strip()
        if not text:
            continue
        parts = path.split(".")
        if parts[0] == "indicators":
            if parts[2] not in FIGURE_FIELDS:
                continue
            per_indicator.setdefault(int(parts[1]), []).append(text)
        values.append(text)
    return values, per_indicator


def _mentions(values: list[str], evidence: str) -> bool:
    return any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d.])", evidence) for v in values)


def _note_shaky_evidence(form: Form, flags: list) -> set[int]:  # type: ignore[type-arg]
    """A flag resting on a figure OCR read with low confidence says so: the scan may be right and
    the reading wrong, so the reviewer checks the figure before the finding. Within an indicator any
    of its shaky figures counts; across the form only figures of three or more characters (5 or 10
    turn up in any formula, 19.6 does not). Returns the positions of those flags (they weigh less
    in the risk score)."""
    values, per_indicator = _shaky_readings(form)
    if not values:
        return set()
    long_values = [v for v in values if len(v) >= 3]
    shaky = set()
    for k, f in enumerate(flags):
        own = per_indicator.get(f.indicator, []) if f.indicator is not None else []
        if _mentions(own, f.evidence) or _mentions(long_values, f.evidence):
            f.message += SHAKY_NOTE
            shaky.add(k)
    return shaky


def review_result(res: ExtractionResult, cfg: ReviewConfig | None = None) -> ExtractionResult:
    """Review every form and every narrative report of one file (a report against the file's forms)."""
    cfg = cfg or load_config()
    for form in res.forms:
        review_form(form, cfg)
    for rep in res.reports:
        try:
            review_report(rep, res.forms)
        except Exception as exc:  # a rule failing on one report never loses the file
            rep.warnings.append(f"报告审核出错（{type(exc).__name__}: {exc}），未给出审核意见，请人工复核")
    return res
