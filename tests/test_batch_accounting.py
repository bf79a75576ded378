"""Every input of a batch accounted for (read, nothing found, failed, skipped with its reason), one
failure never stops the rest, the exit code says whether every file was read, and outputs are
written atomically (a run killed with SIGKILL leaves no half-written JSON)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, run_cli
from fake_openai import FakeOpenAI, answers_for

from extractor.cli import main
from extractor.pipeline.inputs import find_inputs

SAMPLE = ROOT / "samples" / "001_cc20b351adbf8378.txt"
PDF = ROOT / "samples" / "001_cc20b351adbf8378.pdf"


def _folder(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "form.txt").write_bytes(SAMPLE.read_bytes())
    (src / "report.md").write_text("# 某某项目绩效评价报告\n\n一、基本情况\n\n项目于2023年实施。\n", encoding="utf-8")
    (src / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (src / "sub" / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (src / "notes.json").write_text("{}", encoding="utf-8")
    (src / "empty.txt").write_bytes(b"")
    os.symlink(src, src / "sub" / "loop")  # a folder link back to the top
    return src


def test_every_input_of_a_folder_is_accounted_for(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    found = find_inputs([src])
    assert [p.name for p in found.files] == ["empty.txt", "form.txt", "report.md"]
    reasons = {p.name: why for p, why in found.skipped}
    assert set(reasons) == {"old.doc", "old.xls", "notes.json", "loop"}
    assert ".docx" in reasons["old.doc"] and ".xlsx" in reasons["old.xls"]
    assert "不支持" in reasons["notes.json"] and "循环" in reasons["loop"]
    out = tmp_path / "out"
    p = run_cli("extract", str(src), "-o", str(out))
    assert p.returncode == 1, p.stdout  # one file failed and four inputs were skipped
    assert "共 7 个输入：处理 3 个文件（成功 1，未找到自评表 1，失败 1），跳过 4 个" in p.stdout
    summary = json.loads((out / "_batch.json").read_text(encoding="utf-8"))
    states = {Path(i["file"]).name: i["status"] for i in summary["items"]}
    assert states == {"form.txt": "ok", "report.md": "empty", "empty.txt": "failed", "old.doc": "skipped",
                      "old.xls": "skipped", "notes.json": "skipped", "loop": "skipped"}
    assert summary["files"] == 7 and summary["complete"] is False


def test_a_clean_batch_exits_zero_and_a_path_the_system_cannot_open_does_not_stop_it(tmp_path: Path) -> None:
    p = run_cli("extract", str(SAMPLE), "-o", str(tmp_path / "ok"))
    assert p.returncode == 0, p.stderr
    long = tmp_path / ("长" * 1500)  # over the system's limit for one name
    p = run_cli("extract", str(long), str(SAMPLE), "-o", str(tmp_path / "o"))
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert (tmp_path / "o" / f"{SAMPLE.stem}.json").exists()
    items = json.loads((tmp_path / "o" / "_batch.json").read_text(encoding="utf-8"))["items"]
    assert {i["status"] for i in items} == {"ok", "skipped"} and any("过长" in (i["error"] or "") for i in items)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their permissions")
def test_a_folder_without_permission_is_listed_not_fatal(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "form.txt").write_bytes(SAMPLE.read_bytes())
    (src / "locked" / "x.txt").write_bytes(SAMPLE.read_bytes())
    (src / "locked").chmod(0)
    try:
        found = find_inputs([src])
    finally:
        (src / "locked").chmod(0o755)
    assert [p.name for p in found.files] == ["form.txt"]
    assert any("没有读取权限" in why for _, why in found.skipped)


def test_a_rule_that_raises_is_recorded_on_its_form_and_the_review_goes_on(tmp_path: Path, monkeypatch) -> None:
    from extractor.review import rulebook

    def broken(ctx):  # type: ignore[no-untyped-def]
        raise ValueError("formatter broke")
        yield

    monkeypatch.setitem(rulebook.RULES, "zz-broken", rulebook.Rule("zz-broken", "测试用规则", "warn", "test", broken))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["review", str(SAMPLE), "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert (out / "triage.csv").exists()
    forms = json.loads((out / f"{SAMPLE.stem}.json").read_text(encoding="utf-8"))["forms"]
    assert all(any("测试用规则" in w for w in f["warnings"]) for f in forms)
    assert all(f["flags"] for f in forms)  # the other rules still ran


def test_a_rate_kept_as_text_beside_a_mismatch_is_flagged_not_fatal() -> None:
    from extractor.core.config import load_config
    from extractor.core.records import Form
    from extractor.review.engine import review_form

    f = Form(project_name="测试项目")
    f.funds.total.full_year, f.funds.total.executed, f.funds.total.rate = 100, 90, "95%成"
    review_form(f, load_config())
    assert "rate-mismatch" in [x.code for x in f.flags] and not f.warnings


def test_with_the_llm_step_an_unreadable_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    with FakeOpenAI(answers_for([SAMPLE])) as srv:
        env = {**os.environ, "EXTRACTOR_LLM_BASE_URL": srv.base_url, "EXTRACTOR_LLM_API_KEY": "sk-test",
               "EXTRACTOR_LLM_MODEL": "fake-model", "EXTRACTOR_LLM_CACHE_DIR": str(tmp_path / "cache")}
        p = run_cli("extract", str(tmp_path / "empty.txt"), str(SAMPLE), "--llm", "-o", str(tmp_path / "o"), env=env)
    assert p.returncode == 1 and "文件为空" in p.stdout
    assert json.loads((tmp_path / "o" / f"{SAMPLE.stem}.json").read_text(encoding="utf-8"))["forms"]


def test_a_pdf_cut_short_says_pages_may_be_missing(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pdf"
    data = PDF.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.9)])
    p = run_cli("extract", str(cut), "-o", str(tmp_path / "o"))
    res = json.loads((tmp_path / "o" / "cut.json").read_text(encoding="utf-8"))
    assert any("已损坏" in w and "缺失" in w for w in res["warnings"]), res["warnings"]
    assert "已损坏" in p.stdout


def test_a_run_killed_mid_write_leaves_no_half_written_output_and_draft_copes(tmp_path: Path) -> None:
    big = tmp_path / "in"
    big.mkdir()
    text = SAMPLE.read_text(encoding="utf-8")
    for k in range(6):
        (big / f"batch{k}.txt").write_text("\n\n".join([text] * 40), encoding="utf-8")  # 200 forms a file
    out = tmp_path / "out"
    rng = random.Random(7)
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-m", "extractor", "review", str(big), "-o", str(out), "-q"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.0, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in out.glob("*.json"):
            json.loads(f.read_text(encoding="utf-8"))  # every output there is whole
    (out / "damaged.json").write_text('{"source": "x", "forms": [{"project_name": "半', encoding="utf-8")
    d = run_cli("draft", str(out), "-o", str(tmp_path / "draft.md"))
    assert "damaged.json" in d.stdout and "损坏" in d.stdout
    if any(f.name != "damaged.json" for f in out.glob("*.json")):
        assert d.returncode == 0, d.stderr


def test_an_output_is_replaced_whole_or_not_at_all(tmp_path: Path, monkeypatch) -> None:
    from extractor.core import atomic

    target = tmp_path / "x.json"
    atomic.write_atomic(target, '{"old": true}')

    def crash(src: str, dst: str) -> None:  # the process dies after writing, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, '{"new": ' + "1" * 10_000_000)
    assert json.loads(target.read_text(encoding="utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary file left behind
