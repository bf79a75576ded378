"""The LLM step's scope, reconciliation and bounds, through the real openai + instructor code against
a local fake endpoint: an oracle that answers from the project's gold, a careless model, a document
the parser found no form in, and an endpoint that hangs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI, answers_from_gold, noisy, wrong_model_values

from evalkit.harness import load_cases
from evalkit.metrics import Score, score
from extractor.llm.client import load_llm_config
from extractor.llm.grounding import SourceIndex
from extractor.llm.step import LLMStep
from extractor.pipeline.batch import run_batch
from extractor.pipeline.process import process
from extractor.store.contract import result_to_contract

CASES = load_cases(ROOT / "eval_sets" / "real") + load_cases(ROOT / "eval_sets" / "seeds")


def _cfg(srv: FakeOpenAI, tmp: Path, **kw):  # type: ignore[no-untyped-def]
    base = dict(base_url=srv.base_url, api_key="sk-test", model="fake-model", cache_dir=str(tmp / "cache"),
                timeout=10.0, concurrency=8)
    base.update(kw)
    return load_llm_config(None, **base)


def test_a_perfect_model_is_kept_where_the_parser_is_unsure_and_only_those_are_sent(tmp_path: Path) -> None:
    """Answers from the gold of the real set and the seeds: the step lifts the real forms' field
    accuracy from the parser's 0.84 to 0.99 or more, with one call per form in scope and none for a
    form the reading core is sure of (bench: benchmarks/bench_llm_oracle.py)."""
    parser, llm = Score(), Score()
    with FakeOpenAI(answers_from_gold([c.gold_path for c in CASES])) as srv:
        cfg = _cfg(srv, tmp_path)
        for c in CASES:
            gold = json.loads(c.gold_path.read_text(encoding="utf-8"))
            step = LLMStep(cfg, reports=False)
            before = len(srv.requests)
            offline = process(c.input_path)
            res = process(c.input_path, llm=step)
            in_scope = sum(1 for f in offline.forms if step.wants(f))
            assert len(srv.requests) - before == in_scope, c.gold_path.name  # the oracle never needs a re-ask
            if c.set_name == "real":
                parser.add(score(gold, result_to_contract(offline, provenance=False)))
                llm.add(score(gold, result_to_contract(res, provenance=False)))
            else:  # the seeds are read right: the model changes nothing
                assert score(gold, result_to_contract(res, provenance=False)).field_accuracy == 1.0
    assert parser.field_accuracy < 0.85 and llm.field_accuracy >= 0.99, (parser.field_accuracy, llm.field_accuracy)


@pytest.mark.parametrize(("scope", "seed", "least_bad"), [("all", 3, 200), ("uncertain", 11, 25)])
def test_a_careless_model_never_gets_a_wrong_value_exported_as_fact(scope: str, seed: int, least_bad: int,
                                                                    tmp_path: Path) -> None:
    """The oracle with 10% of values dropped, 10% of numbers perturbed and 5% of texts invented: no
    perturbed or invented value is exported as the model's, whether every form is sent or only those
    the reading core doubts."""
    answer, bad = noisy(answers_from_gold([c.gold_path for c in CASES]), seed=seed)
    used, wrong = 0, []
    with FakeOpenAI(answer) as srv:
        cfg = _cfg(srv, tmp_path)
        for c in CASES:
            gold = json.loads(c.gold_path.read_text(encoding="utf-8"))
            res = process(c.input_path, llm=LLMStep(cfg, scope=scope, reports=False))
            n, w = wrong_model_values(gold, result_to_contract(res, provenance=False))
            used += n
            wrong += [f"{c.gold_path.name[:3]} {x}" for x in w]
    assert len(bad) >= least_bad  # the fake did its damage
    assert not wrong, wrong
    assert used >= 80  # and the model's good values are still used


def test_a_document_without_a_form_the_parser_can_read_goes_to_the_model_whole(tmp_path: Path) -> None:
    src = ROOT / "tests" / "data" / "prose_form.txt"
    assert not process(src).forms

    def answer(messages):  # type: ignore[no-untyped-def]
        assert "<<<文件开始>>>" in messages[-1]["content"] and "偏差原因" in messages[-1]["content"]
        row = dict(level1="产出指标", level2="数量指标", name="满足宣传需求", target="购买宣传材料", actual="完成指标",
                   weight=20, score=20, deviation=None)
        return {"forms": [{
            "year": 2024, "project_name": "2024年度区信访办信访宣传项目经费", "department": "101019",
            "implementing_unit": "北京市丰台区信访办公室", "project_lead": "李明", "phone": None,
            "funds": {"total": {"initial": 4, "full_year": 4, "executed": 4, "rate": 100}},
            "indicators": [row, dict(row, level2="质量指标", name="保证宣传效果", target="材料符合要求"),
                           dict(row, level1="效益指标", level2=None, name="提升依法信访知晓度", target="依法信访提高",
                                score=18),
                           dict(row, name="宣传覆盖率", target="95%")],  # invented
            "total_weight": None, "total_score": None}]}

    with FakeOpenAI(answer) as srv:
        step = LLMStep(_cfg(srv, tmp_path), reports=False)
        res = process(src, llm=step)
        assert len(srv.requests) == 1
    [f] = res.forms
    assert f.project_name == "2024年度区信访办信访宣传项目经费" and f.department == "101019"
    assert f.project_lead is None  # not in the document
    assert [i.name for i in f.indicators] == ["满足宣传需求", "保证宣传效果", "提升依法信访知晓度"]
    assert f.indicators[2].score == 18 and f.funds.total.executed == 4
    assert f.confidence <= 0.5 and "大模型读出" in f.warnings[0]
    assert not any("未在文件中找到" in w for w in res.warnings)


def test_a_report_or_notice_costs_no_call(tmp_path: Path) -> None:
    report = next(c.input_path for c in CASES if c.gold_path.name.startswith("020_"))
    with FakeOpenAI(lambda m: {}) as srv:
        res = process(report, llm=LLMStep(_cfg(srv, tmp_path), reports=False))
        assert not srv.requests and not res.forms


def test_a_hanging_endpoint_ends_within_the_deadline_with_every_parser_result_written(tmp_path: Path) -> None:
    files = [c.input_path for c in CASES if c.gold_path.name.startswith(("018_", "025_", "035_", "044_"))]
    offline = {f.stem: result_to_contract(process(f), provenance=False)["forms"] for f in files}
    with FakeOpenAI(lambda m: {}) as srv:
        srv.script = [("hang", 30)] * 50
        cfg = _cfg(srv, tmp_path, timeout=60.0, form_deadline=2.0, batch_deadline=3.0, max_retries=0)
        step = LLMStep(cfg, reports=False)
        t0 = time.monotonic()
        rep = run_batch(files, tmp_path / "out", llm=step, provenance=False)
        took = time.monotonic() - t0
    assert took < 15, took
    assert step.usage.timed_out == 4 and step.usage.http.unanswered >= 4
    for f in files:
        out = json.loads((tmp_path / "out" / f"{f.stem}.json").read_text(encoding="utf-8"))
        forms = [{k: v for k, v in form.items() if k not in ("llm", "warnings", "confidence")} for form in out["forms"]]
        assert forms == [{k: v for k, v in form.items() if k not in ("llm", "warnings", "confidence")}
                         for form in offline[f.stem]]
        assert "超时" in out["forms"][0]["llm"]["error"]
    assert json.loads((tmp_path / "out" / "_batch.json").read_text(encoding="utf-8"))["files"] == len(files)
    assert len(rep.results) == len(files)


def test_the_parsers_readings_are_on_disk_before_the_first_model_call(tmp_path: Path) -> None:
    files = [c.input_path for c in CASES if c.gold_path.name.startswith(("018_", "044_"))]
    seen: list[list[str]] = []
    out = tmp_path / "out"

    def answer(messages):  # type: ignore[no-untyped-def]
        seen.append(sorted(p.name for p in out.glob("*.json")))
        return {}

    with FakeOpenAI(answer) as srv:
        run_batch(files, out, llm=LLMStep(_cfg(srv, tmp_path), reports=False))
    assert seen and all(s == sorted([*(f"{f.stem}.json" for f in files), "_batch.json"]) for s in seen)


@pytest.mark.parametrize(("text", "number"), [("79.27107.93", 7.93), ("79.27107.93", 10), ("O76%107.6", 7.6),
                                              ("4 4 4 10 100% 10", 10)])
def test_glued_digits_are_found_where_they_split_consistently(text: str, number: float) -> None:
    assert SourceIndex(text).has_number(number)


def test_glued_digits_that_split_no_consistent_way_ground_nothing() -> None:
    idx = SourceIndex("编号 20231234567")
    assert not idx.has_number(2023) and not idx.has_number(1234567)


def test_a_cell_cut_by_the_converter_is_found_in_pieces_but_an_invention_is_not() -> None:
    idx = SourceIndex("配套设施 到位率 15%及其以 下 资金节约 可行性研 究充分性 率")
    assert idx.has_text("配套设施到位率") and idx.has_text("可行性研究充分性") and idx.has_text("资金节约率")
    assert not idx.has_text("设施到位合格率") and not idx.has_text("资金使用合规性")


def test_words_a_converter_printed_apart_are_found_together_wherever_the_cell_stands() -> None:
    """``便捷、快速 … 运用`` (a cell cut by the next column's text) is found, however often its short
    words (``分``) occur earlier in the form; a phrase whose words are far apart is not."""
    filler = " ".join(f"第{i}项 1 分" for i in range(40))
    idx = SourceIndex(filler + " 便于信息 便捷、快速 质量指 改善运行状况 化应用 运用 产出 标 12 分 指标 40 分")
    assert idx.has_text("便捷、快速运用") and idx.has_text("产出指标 40 分") and idx.has_text("质量指标 12 分")
    assert not idx.has_text("第1项运用")


def test_a_row_name_cut_by_a_column_wise_dump_still_anchors_its_figures() -> None:
    """``乡村道路建设 300 公 300 公 15 … 养护里程``: 15 stands right after the name's first piece; a
    number printed only far from it, or a short common prefix, anchors nothing."""
    idx = SourceIndex("完成乡村道路建设养护里程 300 公里 " + "说明 " * 90 +
                      "乡村道路建设 300 公 300 公 15 1、提供佐证资料 养护里程 里 里 数量指 标 15 分 项目 88")
    assert idx.number_near("乡村道路建设养护里程", 15)
    assert not idx.number_near("乡村道路建设养护里程", 88) and not idx.number_near("乡村道路建设资金拨付到位率", 15)


def test_garbage_answers_are_counted_as_the_requests_they_cost(tmp_path: Path) -> None:
    """An endpoint that only ever answers junk: no answer is counted as a call, but every HTTP
    request (the first try and each re-ask) is, by outcome."""
    src = next(c.input_path for c in CASES if c.gold_path.name.startswith("018_"))
    with FakeOpenAI(lambda m: {}) as srv:
        srv.script = [("invalid",)] * 20
        step = LLMStep(_cfg(srv, tmp_path, max_reasks=2, max_retries=0), reports=False)
        res = process(src, llm=step)
        sent = len(srv.requests)
    assert step.usage.calls == 0 and step.usage.failed == 1
    assert step.usage.http.sent == sent >= 2 and step.usage.http.by_status == {"成功": sent}
    assert f"HTTP 请求 {sent} 次" in step.usage.http.text()
    assert res.forms[0].llm.error and res.forms[0].project_name == process(src).forms[0].project_name


def test_a_converters_pinyin_and_a_name_glued_to_its_phone_are_no_obstacle_but_a_sentence_is() -> None:
    idx = SourceIndex("主管部门 | 南岳區(qū)民族宗教事務(wù)局 |\n負責人及電話 | 郭剛毅13975405091 |\n偏差原因 | 请拨打13800138000咨询")
    assert idx.fills_a_cell("南岳區民族宗教事務局") and idx.fills_a_cell("郭剛毅") and idx.fills_a_cell("13975405091")
    assert idx.has_text("13800138000") and not idx.fills_a_cell("13800138000")


def test_forms_and_report_chunks_share_one_concurrency_bound(tmp_path: Path) -> None:
    """Seed 000 holds a narrative report (two chunks) and five forms; with concurrency 2 the server
    never holds more than two requests at once."""
    seed = ROOT / "samples" / "000_6226a1c3cfbc3ef3.txt"
    with FakeOpenAI(lambda m: {}, delay=0.3) as srv:
        process(seed, llm=LLMStep(_cfg(srv, tmp_path, concurrency=2), scope="all"))
        assert len(srv.requests) >= 6 and srv.max_in_flight == 2


def test_the_cli_says_how_many_of_the_models_values_it_used_disputed_and_refused(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    src = next(c.input_path for c in CASES if c.gold_path.name.startswith("035_"))
    with FakeOpenAI(answers_from_gold([c.gold_path for c in CASES])) as srv:
        env = dict(os.environ, EXTRACTOR_LLM_BASE_URL=srv.base_url, EXTRACTOR_LLM_API_KEY="sk-cli",
                   EXTRACTOR_LLM_MODEL="fake-model", EXTRACTOR_LLM_CACHE_DIR=str(tmp_path / "cache"))
        p = subprocess.run([sys.executable, "-m", "extractor", "extract", str(src), "-o", str(tmp_path / "out"), "--llm"],
                           env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if x.startswith("大模型的值："))
    used = int(line.split("补充或更正 ")[1].split(" 处")[0])
    out = json.loads((tmp_path / "out" / f"{src.stem}.json").read_text(encoding="utf-8"))
    assert used == len(out["forms"][0]["llm"]["filled"]) > 50
    assert "HTTP 请求 1 次（成功 1）" in p.stdout
