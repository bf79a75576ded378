"""Copies of one form: the same form sent as .txt, .pdf and .docx, or one file imported twice, is
reviewed once and counted once (in the review app's queue, its charts and the drafts)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from extractor.core.figures import clean


def copy_identity(form: dict[str, Any]) -> tuple[Any, ...]:
    """What two copies of one form share whatever file they came in (the .txt, .pdf and .docx of it,
    or a file imported twice): name, department, year, totals, number of indicators and the names of
    the first three, compared without white space."""
    inds = form.get("indicators") or []
    return (clean(form.get("project_name")), clean(form.get("department")), form.get("year"),
            form.get("total_weight"), form.get("total_score"), len(inds),
            tuple(clean(i.get("name"))[:20] for i in inds[:3]))


def copy_key(form: dict[str, Any]) -> str | None:
    """:func:`copy_identity` as a short hash (a database column); None for a form with neither name nor
    indicators, which nothing can show to be a copy of another."""
    if not clean(form.get("project_name")) and not form.get("indicators"):
        return None
    return hashlib.sha1(json.dumps(copy_identity(form), ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
