"""The command line, run as a user runs it: a real subprocess, real files, Chinese output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS, SHARED, load, run_cli


def test_extract_directory_writes_contract_json_and_chinese_summary(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("000_6226a1c3cfbc3ef3.txt", "001_cc20b351adbf8378.txt"):
        (src / name).write_bytes((ROOT / "samples" / name).read_bytes())
    (src / "empty.txt").write_bytes(b"")
    out = tmp_path / "out"
    p = run_cli("extract", str(src), "-o", str(out))
    assert p.returncode == 1, p.stderr  # one input could not be read: the others are written
    assert "处理 3 个文件（成功 2，未找到自评表 0，失败 1）" in p.stdout and "识别自评表 10 份" in p.stdout
    data = json.loads((out / "001_cc20b351adbf8378.json").read_text(encoding="utf-8"))
    assert data["source"] == "001_cc20b351adbf8378.txt"
    form = data["forms"][0]
    for key in ("year", "project_name", "department", "implementing_unit", "project_lead", "phone", "funds",
                "goal_expected", "goal_actual", "indicators", "total_weight", "total_score", "flags"):
        assert key in form
    assert set(form["funds"]) == {"total", "fiscal", "carryover", "other"}
    assert set(form["funds"]["total"]) >= {"initial", "full_year", "executed", "weight", "rate", "score"}
    assert set(form["indicators"][0]) >= {"level1", "level2", "name", "target", "actual", "weight", "score",
                                          "deviation"}


def test_all_failed_batch_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_bytes(b"")
    p = run_cli("extract", str(tmp_path / "e.txt"), "-o", str(tmp_path / "o"))
    assert p.returncode == 1 and "文件为空" in p.stdout


def test_review_command_accepts_the_same_arguments(tmp_path: Path) -> None:
    p = run_cli("review", str(ROOT / "samples" / "001_cc20b351adbf8378.txt"), "-o", str(tmp_path))
    assert p.returncode == 0 and (tmp_path / "001_cc20b351adbf8378.json").exists()


def test_eval_prints_the_scorer_line_per_file_and_overall() -> None:
    p = run_cli("eval", "eval_sets/seeds", "--formats", "orig")
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stdout.splitlines() if "field_accuracy=" in ln]
    assert len(lines) >= len(SEEDS) + 1
    assert lines[-1].startswith("field_accuracy=1.0000 rows_f1=1.0000")


@pytest.mark.skipif(not (SHARED / "score_export.py").exists(), reason="../shared/score_export.py not beside the clone")
def test_our_scorer_prints_what_the_shared_scorer_prints(tmp_path: Path) -> None:
    from evalkit.metrics import score
    from extractor.pipeline.process import process_file
    from extractor.store.contract import dumps, result_to_contract

    for g in SEEDS:
        gold = load(g)
        pred = result_to_contract(process_file(ROOT / "samples" / gold["source"]))
        # perturb so the comparison is not trivially all-correct
        pred["forms"][0]["project_name"] = "改过的名称"
        pred["forms"][-1]["indicators"] = pred["forms"][-1]["indicators"][1:]
        pred["forms"][0].setdefault("flags", []).append({"code": "vague-target", "indicator": 0})
        pp = tmp_path / f"{g.stem}.json"
        pp.write_text(dumps(pred), encoding="utf-8")
        shared = subprocess.run([sys.executable, str(SHARED / "score_export.py"), str(g), str(pp)],
                                capture_output=True, text=True, check=True).stdout.strip()
        assert score(gold, pred).report() == shared


def test_help_and_usage_errors_are_in_chinese(tmp_path: Path) -> None:
    helped = run_cli("extract", "-h")
    assert helped.returncode == 0
    for english in ("Usage", "Options", "Show this message"):
        assert english not in helped.stdout
    assert "用法: " in helped.stdout and "extractor extract" in helped.stdout and "显示本说明并退出" in helped.stdout
    for args, said in ((("extract",), "缺少参数"), (("extract", "--nope", "x"), "没有选项 '--nope'"),
                       (("import", str(tmp_path / "none")), "不存在"),
                       (("review", "x", "--llm-scope", "bad"), "不在可选值")):
        got = run_cli(*args)
        assert got.returncode == 2 and "用法错误：" in got.stderr and said in got.stderr, (args, got.stderr)
