"""Documents where the reading core found no form although the text looks like one: the model reads
the whole document (or, when it is long, each window of it that looks like a form) and every form it
returns is grounded against that text before it is kept.

Scope comes from the reading core: :func:`form_like` says whether text outside every form found
still reads like a self-evaluation table (its column and block labels), so a narrative report or a
notice costs no call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from extractor.core.lazy_regex import lazy_compile
from extractor.core.records import Form
from extractor.llm.client import LLMConfig
from extractor.llm.grounding import SourceIndex, reconcile
from extractor.llm.prompts import load_prompt
from extractor.llm.schemas import LLMDocument

# the labels of a self-evaluation table (a report's prose rarely carries several of them)
_LABELS = lazy_compile(r"自评表|年度指标值|实际完成值|全年执行数|年初预算数|全年预算数|一级指标|二级指标|三级指标"
                     r"|偏差原因|分值|得分|执行率|产出指标|效益指标|满意度指标|项目负责人|实施单位|主管部门")
_MEASURED = lazy_compile(r"实际完成值|完成值|全年执行数|实际完成")
WINDOW = 12000  # characters sent in one call


def form_like(text: str) -> bool:
    """Whether text reads like a self-evaluation table: six of its labels, one of them a result."""
    labels = set(_LABELS.findall(text))
    return len(labels) >= 6 and bool(_MEASURED.search(text))


def windows(text: str, limit: int = WINDOW) -> list[str]:
    """The document whole when short enough, else windows cut at line ends that look like forms."""
    if len(text) <= limit:
        return [text] if form_like(text) else []
    out, cur = [], ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # a converter's one-line dump
            out.append(cur + line[: limit - len(cur)])
            line, cur = line[limit - len(cur):], ""
        if len(cur) + len(line) > limit:
            out.append(cur)
            cur = ""
        cur += line
    if cur:
        out.append(cur)
    return [w for w in out if form_like(w)]


def _keep(form: Form) -> bool:
    """A form the model found is kept when enough of it was found in the source: a grounded name and
    some values, or at least two indicator rows with a result."""
    rows = [i for i in form.indicators if i.name and (i.actual or i.score is not None)]
    return len(rows) >= 2 or bool(form.project_name and (rows or form.funds.total.full_year is not None))


async def read_document_job(job: Any, cfg: LLMConfig, client: Any, cache: Any, usage: Any,
                            sem: asyncio.Semaphore) -> list[Form]:
    """The forms the model finds in one window of a document, each grounded in that window."""
    from extractor.core.records import LLMRun
    from extractor.llm.extract import cached_call

    prompt = load_prompt("document_extract")
    messages = prompt.render(document_text=job.text)
    answer, tin, tout, cached = await cached_call(client, cfg, cache, prompt, messages, LLMDocument, usage, sem)
    index = SourceIndex(job.text)
    out: list[Form] = []
    for k, llm_form in enumerate(answer.forms):
        form, rec = reconcile(None, llm_form, index, doubtful=True)
        if not _keep(form):
            continue
        form.is_fragment = not form.project_name
        form.confidence = 0.5
        form.warnings.insert(0, "规则解析未能识别此表，由大模型读出（各值均已在原文中核实），请对照原文核对")
        run = LLMRun(prompt=prompt.id, model=cfg.model, cached=cached,
                     tokens_in=tin if k == 0 else 0, tokens_out=tout if k == 0 else 0)
        rec.record(run)
        usage.tally(rec)
        form.llm = run
        out.append(form)
    return out
