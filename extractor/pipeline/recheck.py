"""One stored form sent to the LLM step on a reviewer's request (the review app's 大模型复核).

The form's file is read again, the form at its position is sent to the model through the same step
as ``extractor extract --llm`` (every value grounded in the source, planted instructions ignored),
reviewed, and put in place of the stored reading. Corrections and decisions stay; nothing is saved
when the file changed since it was imported or the model call failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from extractor.core.atomic import sha256_of
from extractor.core.config import ReviewConfig
from extractor.core.errors import ExtractorError
from extractor.ingest import ingest
from extractor.llm.client import LLMConfig
from extractor.llm.step import LLMStep
from extractor.pipeline.process import finish
from extractor.store.contract import result_to_contract
from extractor.store.database import Store


@dataclass
class Recheck:
    """What one 大模型复核 did, for the reviewer."""

    version: int
    filled: int
    disagreements: int
    unverified: int

    @property
    def text(self) -> str:
        return (f"大模型复核完成（第 {self.version} 版）：补充或更正 {self.filled} 处（均已在原文中核实），"
                f"与规则解析不一致 {self.disagreements} 处（保留规则解析），未能核实而未采用 {self.unverified} 处。")


def recheck_form(store: Store, form_id: int, llm_cfg: LLMConfig, cfg: ReviewConfig, who: str = "",
                 client: object = None) -> Recheck:
    """Send form ``form_id`` to the model; raises :class:`ExtractorError` (Chinese) when nothing was saved."""
    if not llm_cfg.configured:
        raise ExtractorError("未配置大模型（EXTRACTOR_LLM_API_KEY 或配置文件 [llm] api_key），无法复核")
    doc = store.document_of(form_id)
    path = Path(doc["path"])
    if not path.is_file():
        raise ExtractorError(f"原文件不可用（{doc['name']}），无法复核")
    if doc["sha256"] and sha256_of(path) != doc["sha256"]:
        raise ExtractorError(f"原文件「{doc['name']}」在导入后已变化，请先重新导入再复核")
    version = store.version(form_id)
    pos = store.position(form_id)
    step = LLMStep(llm_cfg, scope="all", reports=False, only={pos}, client=client)
    res = finish(step.extract(ingest(str(path))), cfg)
    forms = result_to_contract(res)["forms"]
    if pos >= len(forms):
        raise ExtractorError("重新读取原文件后找不到这张表，请重新导入该文件")
    if step.usage.errors or step.usage.failed:
        raise ExtractorError("大模型复核未完成，原解析结果未改动：" + "；".join(step.usage.errors[:2] or ["调用失败"]))
    form = forms[pos]
    llm = form.get("llm") or {}
    if not llm:
        raise ExtractorError("大模型没有给出可用的答复，原解析结果未改动")
    new_version = store.replace_reading(form_id, version, form, who=who)
    return Recheck(new_version, len(llm.get("filled") or []), len(llm.get("disagreements") or []),
                   len(llm.get("unverified") or []))
