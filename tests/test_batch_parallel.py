"""Issue 17 on real files: a batch on every core gives byte-identical outputs to a serial run (text,
PDF, Word, Excel, a multi-page scan whose pages go to the whole pool, a corrupt PDF, an empty file),
a local Ray instance gives the same outputs and reports a failing file alike, a killed run resumes
without redoing finished files, and JSON Lines carries every file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

SAMPLES = ROOT / "samples"


def _cli(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extractor", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def _scan(folder: Path, pages: int) -> Path:
    import pymupdf

    out = folder / "扫描件.pdf"
    with pymupdf.open(str(SAMPLES / "001_cc20b351adbf8378.scan.pdf")) as scan, pymupdf.open() as part:
        part.insert_pdf(scan, to_page=pages - 1)
        part.save(str(out))
    return out


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("inbox")
    for f in SAMPLES.iterdir():
        if f.suffix in {".txt", ".docx", ".xlsx"} or f.name == "001_cc20b351adbf8378.pdf":
            shutil.copy(f, folder / f.name)
    _scan(folder, 3)
    (folder / "损坏.pdf").write_bytes(b"%PDF-1.7 garbage" * 10)
    (folder / "空文件.txt").write_bytes(b"")
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.json")) if p.name != "_batch.json"}


def _summary(out: Path) -> dict:
    s = json.loads((out / "_batch.json").read_text(encoding="utf-8"))
    s.pop("seconds")
    for item in s["items"]:
        item["output"] = Path(item["output"]).name if item["output"] else None
    return s


@pytest.fixture(scope="module")
def serial(inbox: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed batch reviewed one file after another: what every other engine must reproduce."""
    out = tmp_path_factory.mktemp("serial")
    run = _cli("review", str(inbox), "-o", str(out), "-q", "-j", "1", "--force", env={"EXTRACTOR_OCR_CACHE": "off"})
    assert run.returncode == 1, run.stderr[-2000:]  # the corrupt and the empty file
    return out


def _same_as_serial(serial: Path, other: Path, inbox: Path) -> None:
    a, b = _outputs(serial), _outputs(other)
    assert len(a) == len(list(inbox.iterdir())) and a == b
    assert _summary(serial) == _summary(other)
    assert (serial / "triage.csv").read_bytes() == (other / "triage.csv").read_bytes()
    items = {Path(i["file"]).name: i for i in _summary(other)["items"]}
    assert items["损坏.pdf"]["status"] == "failed" and "损坏" in items["损坏.pdf"]["error"]
    assert items["扫描件.pdf"]["forms"] >= 1 and items["空文件.txt"]["status"] == "failed"


def test_parallel_outputs_are_byte_identical_to_serial(inbox: Path, serial: Path, tmp_path: Path) -> None:
    par = _cli("review", str(inbox), "-o", str(tmp_path / "par"), "-q", "-j", "2", "--force",
               env={"EXTRACTOR_OCR_CACHE": "off"})
    assert par.returncode == 1, par.stderr[-2000:]
    _same_as_serial(serial, tmp_path / "par", inbox)


def test_a_local_ray_run_gives_the_serial_outputs_and_reports_failures_alike(inbox: Path, serial: Path,
                                                                            tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is the cluster extra; the test command installs it")
    env = {"EXTRACTOR_OCR_CACHE": "off"}
    on_ray = _cli("review", str(inbox), "-o", str(tmp_path / "ray"), "--ray", "local", "-j", "2", "--force", env=env)
    assert on_ray.returncode == 1, on_ray.stderr[-3000:]
    assert "Ray：1 个节点、2 个 CPU" in on_ray.stdout
    _same_as_serial(serial, tmp_path / "ray", inbox)
    here = _cli("review", str(inbox), "-o", str(tmp_path / "here"), "-j", "1", "--force", env=env)
    failures = [line for line in here.stdout.splitlines() if line.startswith("  · ")]
    assert failures and failures == [line for line in on_ray.stdout.splitlines() if line.startswith("  · ")]


def test_ray_refuses_what_it_cannot_run_with_a_clear_message(inbox: Path, tmp_path: Path) -> None:
    run = _cli("extract", str(inbox), "-o", str(tmp_path / "o"), "--ray", "local", "--fail-fast")
    assert run.returncode == 1 and "错误：--ray 不能与 --fail-fast 同时使用" in run.stderr and "Error" not in run.stderr


def test_a_killed_run_resumes_without_redoing_finished_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = (SAMPLES / "001_cc20b351adbf8378.txt").read_text(encoding="utf-8")
    for k in range(30):
        (folder / f"表{k:02d}.txt").write_text(text.replace("信访", f"信访{k}"), encoding="utf-8")
    _scan(folder, 5)  # sorted last but one: the run is killed while its pages are read
    (folder / "甲.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "EXTRACTOR_OCR_CACHE": "off"}
    proc = subprocess.Popen([sys.executable, "-m", "extractor", "review", str(folder), "-o", str(out), "-q",
                             "-j", "2"], cwd=ROOT, env=env, start_new_session=True)
    ledger = out / ".resume"
    deadline = time.time() + 300
    while time.time() < deadline and len(list(ledger.glob("*.json")) if ledger.is_dir() else []) < 10:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole run, workers included, mid-batch
    proc.wait()
    finished = {p.name for p in ledger.glob("*.json")}
    assert 10 <= len(finished) < 32, finished
    assert not (out / "_batch.json").exists()
    again = _cli("review", str(folder), "-o", str(out), "-q", env={"EXTRACTOR_OCR_CACHE": "off"})
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads((out / "_batch.json").read_text(encoding="utf-8"))
    assert summary["resumed"] >= len(finished) and summary["files"] == 32
    fresh = _cli("review", str(folder), "-o", str(tmp_path / "fresh"), "-q", "--force")
    assert fresh.returncode == 0
    assert _outputs(out) == _outputs(tmp_path / "fresh")  # resumed results are the same results
    (folder / "表00.txt").write_text(text.replace("信访", "改过的信访"), encoding="utf-8")  # a changed file is read again
    third = _cli("review", str(folder), "-o", str(out), "-q")
    assert json.loads((out / "_batch.json").read_text(encoding="utf-8"))["resumed"] == 31, third.stderr[-2000:]
    assert "改过的信访" in (out / "表00.json").read_text(encoding="utf-8")


def test_json_lines_carry_every_file_as_it_finishes(inbox: Path, tmp_path: Path) -> None:
    stream = tmp_path / "all.jsonl"
    run = _cli("extract", str(inbox), "-o", str(tmp_path / "out"), "-q", "--jsonl", str(stream), "--force")
    assert run.returncode == 1
    lines = [json.loads(x) for x in stream.read_text(encoding="utf-8").splitlines()]
    assert sorted(x["index"] for x in lines) == list(range(len(list(inbox.iterdir()))))
    for x in lines:
        if x["status"] != "failed":
            out = tmp_path / "out" / f"{Path(x['file']).stem}.json"
            if out.exists() and json.loads(out.read_text(encoding="utf-8"))["source"] == Path(x["file"]).name:
                assert json.loads(out.read_text(encoding="utf-8")) == x["result"]
    to_stdout = _cli("extract", str(inbox / "003_3db43c30d19b3157.txt"), "-o", str(tmp_path / "o2"), "--jsonl", "-")
    one = [json.loads(x) for x in to_stdout.stdout.splitlines()]  # standard output holds the stream alone
    assert len(one) == 1 and one[0]["status"] == "ok" and one[0]["result"]["forms"]


def test_a_file_written_form_by_form_is_the_text_written_whole(tmp_path: Path) -> None:
    """The streamed writer (what keeps a 10,000-form file under 1 GB) gives the very bytes of the
    one-piece writer, and the resume ledger's streamed entry reads back as the same result."""
    from extractor.core.atomic import write_atomic
    from extractor.core.config import load_config
    from extractor.pipeline.process import process
    from extractor.pipeline.resume import Ledger
    from extractor.store.contract import dumps, json_chunks, result_to_contract

    res = process(SAMPLES / "000_6226a1c3cfbc3ef3.txt", load_config(None))
    assert res.forms and res.reports
    whole = dumps(result_to_contract(res))
    write_atomic(tmp_path / "a.json", json_chunks(result_to_contract(res, lazy=True)))
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == whole
    line = "".join(json_chunks({"result": result_to_contract(res, lazy=True)}, indent=None))
    assert line == json.dumps({"result": result_to_contract(res)}, ensure_ascii=False)
    src, out = SAMPLES / "000_6226a1c3cfbc3ef3.txt", tmp_path / "a.json"
    ledger = Ledger(tmp_path, "k")
    ledger.record(src, out, res)
    assert Ledger(tmp_path, "k").finished(src, out) == res
    assert Ledger(tmp_path, "other").finished(src, out) is None


def test_a_batch_output_folder_imported_by_one_writer_equals_the_apps_import(inbox: Path, serial: Path,
                                                                             tmp_path: Path) -> None:
    """``extractor import OUT`` stores what the app's own import of the same files stores, every input
    accounted for; an ``extract`` output is reviewed on the way in; a second import keeps human work."""
    from extractor.core.config import load_config
    from extractor.pipeline.importer import import_files
    from extractor.pipeline.process import reviewer
    from extractor.store.database import Store

    def forms(db: Path, drop: tuple[str, ...] = ()) -> list[tuple]:
        s = Store(str(db))

        def data(text: str) -> str:
            return json.dumps({k: v for k, v in json.loads(text).items() if k not in drop}, sort_keys=True)

        return sorted((d["name"], r["idx"], data(r["data"])) for d in s.documents()
                      for r in s.conn.execute("SELECT idx, data FROM forms WHERE document_id=? AND retired_at IS NULL",
                                              (d["id"],)))

    cfg = load_config(None)
    app_db = tmp_path / "app.db"
    import_files(Store(str(app_db), rereview=reviewer(cfg)), sorted(p for p in inbox.iterdir()))
    run = _cli("import", str(serial), "--db", str(tmp_path / "cli.db"))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "个输入" in run.stdout and "失败 2 个" in run.stdout
    assert forms(tmp_path / "cli.db") == forms(app_db)
    extracted = _cli("extract", str(inbox), "-o", str(tmp_path / "ex"), "-q", "--force", env={"EXTRACTOR_OCR_CACHE": "off"})
    assert extracted.returncode == 1
    assert _cli("import", str(tmp_path / "ex"), "--db", str(tmp_path / "ex.db")).returncode == 0
    # the review's flags, rescoring and risk (the review stage's own warnings stay with `review`)
    assert forms(tmp_path / "ex.db", ("warnings",)) == forms(app_db, ("warnings",))
    store = Store(str(tmp_path / "cli.db"), rereview=reviewer(cfg))
    fid = store.conn.execute("SELECT id FROM forms WHERE project_name IS NOT NULL LIMIT 1").fetchone()[0]
    store.save_corrections(fid, store.version(fid), {"project_lead": "张三"}, who="审核员")
    assert _cli("import", str(serial), "--db", str(tmp_path / "cli.db")).returncode == 0
    assert Store(str(tmp_path / "cli.db")).effective_form(fid)["project_lead"] == "张三"
