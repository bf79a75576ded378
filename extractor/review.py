"""The review stage: run every enabled rule on every form, re-score it, and give it a risk score.

Risk = Σ weight of its flags (per-code weight if configured, else by severity; each code counted at
most ``per_code_cap`` times) + gap
weight × max(0, self total − recomputed total), so
forms whose self-score looks inflated rise to the top of the triage list (domain.md §4 item 11).
"""

from __future__ import annotations

from extractor import rules_scores, rules_values  # noqa: F401  (register the rules)
from extractor.config import ReviewConfig, load_config
from extractor.rescore import rescore_form
from extractor.rulebook import RULES, FormContext
from extractor.schemas import ExtractionResult, Form

SEVERITY_ORDER = {"error": 0, "warn": 1, "info": 2}


def review_form(form: Form, cfg: ReviewConfig) -> Form:
    """Attach flags, the rescoring and the risk score to one form (in place; returned for chaining)."""
    ctx = FormContext(form, cfg)
    flags = []
    for code, r in RULES.items():
        if code in cfg.rules.disabled:
            continue
        flags.extend(r.check(ctx))
    flags.sort(key=lambda f: (f.indicator if f.indicator is not None else -1, SEVERITY_ORDER[f.severity]))
    form.flags = flags
    form.rescore = rescore_form(form, cfg)
    weights = {"error": cfg.risk.error, "warn": cfg.risk.warn, "info": cfg.risk.info}
    gap = form.rescore.gap if form.rescore.gap is not None else 0.0
    seen: dict[str, int] = {}
    risk = 0.0
    for f in flags:  # repeats of one code count up to the cap: breadth of problems matters more
        seen[f.code] = seen.get(f.code, 0) + 1
        if seen[f.code] <= cfg.risk.per_code_cap:
            risk += cfg.risk.code_weights.get(f.code, weights[f.severity])
    form.risk = round(risk + cfg.risk.gap_weight * max(0.0, gap), 2)
    return form


def review_result(res: ExtractionResult, cfg: ReviewConfig | None = None) -> ExtractionResult:
    """Review every form of one file."""
    cfg = cfg or load_config()
    for form in res.forms:
        review_form(form, cfg)
    return res
