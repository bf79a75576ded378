"""Bring files into the review database: through the pipeline (extract and review), then stored.

Every import is recorded (``imports`` and ``import_items``) with each input's outcome: read (forms,
fragments), read with nothing found, failed (reason) or skipped (reason). One bad file never stops
a batch: any exception is kept on its file. :class:`ImportJob` runs an import in a thread of its
own, so a reviewer clicking elsewhere in the app never cancels it; if the process itself dies, the
record stays ``running`` and the app reports it as interrupted, with what was saved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from extractor.core.atomic import sha256_of
from extractor.core.config import ReviewConfig, load_config
from extractor.core.cores import use_all_cores
from extractor.ocr import pages as ocr_pages
from extractor.pipeline.batch import STATE_TEXT, state_of
from extractor.pipeline.process import process, rereview
from extractor.store.contract import result_to_contract
from extractor.store.database import Store

ITEM_TEXT = {"pending": "未处理（导入中断）"} | STATE_TEXT
NO_FORMS = "未在文件中找到项目支出绩效自评表"
IMPORT_TEXT = {"running": "进行中", "done": "已完成", "stopped": "已停止"}


def _import_one(store: Store, f: Path, cfg: ReviewConfig) -> tuple[str, int, int, str | None]:
    """(state, forms, fragments, error) of one file, stored; never raises for the file's sake."""
    try:
        res = process(f, cfg)
        data = result_to_contract(res)
        try:
            digest = sha256_of(f)
            path = str(f.resolve())
        except OSError:
            digest, path = None, str(f)
        store.save_result(path, data, sha256=digest, kind=res.kind)
    except Exception as exc:  # any stage, any file: recorded on it, the batch goes on
        return "failed", 0, 0, f"导入时出错：{type(exc).__name__}: {exc}"
    state = state_of(res)
    forms = sum(1 for x in res.forms if not x.is_fragment)
    error = res.error if state == "failed" else (NO_FORMS if state == "empty" else None)
    return state, forms, len(res.forms) - forms, error


def run_import(store: Store, files: list[Path], cfg: ReviewConfig | None = None,
               skipped: list[tuple[Path, str]] | tuple = (), who: str = "",
               on_done: Callable[[int, int, Path, str, str | None], None] | None = None,
               should_stop: Callable[[], bool] | None = None,
               on_start: Callable[[int], None] | None = None) -> int:
    """Import ``files`` (and record ``skipped`` inputs with their reasons); returns the import's id.
    ``on_done(i, n, file, state, error)`` reports progress; ``should_stop()`` ends the import
    between two files, recorded as stopped with the files left."""
    cfg = cfg or load_config()
    iid = store.start_import([(str(f), f.name, "pending", None) for f in files]
                             + [(str(p), p.name, "skipped", why) for p, why in skipped], who=who)
    if on_start:
        on_start(iid)
    status, note = "done", None
    try:
        for i, f in enumerate(files):
            if should_stop is not None and should_stop():
                status, note = "stopped", f"已按要求停止：{len(files) - i} 个文件未导入"
                break
            state, n_forms, n_frag, err = _import_one(store, f, cfg)
            store.record_item(iid, i, state, n_forms, n_frag, err)
            if on_done:
                on_done(i + 1, len(files), f, state, err)
    except BaseException as exc:  # interrupted from outside (the process is stopping): say so
        store.finish_import(iid, "stopped", f"导入被中断（{type(exc).__name__}）")
        raise
    store.finish_import(iid, status, note)
    return iid


def import_files(store: Store, files: list[Path], cfg: ReviewConfig | None = None,
                 on_done: Callable[[int, int, Path, str | None], None] | None = None) -> list[tuple[Path, str | None]]:
    """Import each file now; returns (file, error or None) in order (``None`` also for a file with
    nothing found: its import record says so)."""
    def done(i: int, n: int, f: Path, state: str, err: str | None) -> None:
        if on_done:
            on_done(i, n, f, err if state == "failed" else None)

    iid = run_import(store, files, cfg, on_done=done)
    return [(f, r["error"] if r["state"] == "failed" else None)
            for f, r in zip(files, store.import_items(iid))]


def import_batch(store: Store, out_dir: Path, cfg: ReviewConfig | None = None, who: str = "",
                 on_done: Callable[[int, int], None] | None = None) -> int:
    """A finished batch's outputs (``extractor review|extract -o OUT_DIR``, on this machine, every core
    or a Ray cluster) into the review database by this one process, so the workers that read the
    files never write SQLite at once. Recorded as one import, every input accounted for as the batch
    left it; forms from ``extract`` get their review here. Returns the import's id."""
    summary = json.loads((out_dir / "_batch.json").read_text(encoding="utf-8"))
    items = summary["items"]
    iid = store.start_import([(it["file"], Path(it["file"]).name,
                               "skipped" if it["status"] == "skipped" else "pending",
                               it["error"] if it["status"] == "skipped" else None) for it in items], who=who)
    cfg = cfg or load_config()
    for i, it in enumerate(items):
        if it["status"] == "skipped":
            continue
        try:
            out = Path(it["output"])
            if not out.is_absolute() and not out.exists():
                out = out_dir / out.name
            data = json.loads(out.read_text(encoding="utf-8"))
            for form in data.get("forms") or []:
                if "risk" not in form:  # an extract-only output: reviewed now
                    form.update(rereview(form, cfg))
            src = Path(it["file"])
            try:
                digest, path = sha256_of(src), str(src.resolve())
            except OSError:  # read elsewhere (a cluster's storage): stored under its batch path
                digest, path = None, str(src)
            store.save_result(path, data, sha256=digest, kind=it.get("kind"))
            store.record_item(iid, i, it["status"], it["forms"], it["fragments"],
                              it["error"] if it["status"] == "failed" else NO_FORMS if it["status"] == "empty" else None)
        except Exception as exc:  # one unreadable output is recorded on its file; the others go on
            store.record_item(iid, i, "failed", 0, 0, f"导入批处理结果时出错：{type(exc).__name__}: {exc}")
        if on_done:
            on_done(i + 1, len(items))
    store.finish_import(iid, "done", None)
    return iid


@dataclass
class ImportJob:
    """One import in a background thread, with its progress for a page to poll. Scanned pages are read
    on every core by the same page workers as the CLI's (``EXTRACTOR_OCR_WORKERS`` caps them)."""

    store: Store
    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    who: str = ""
    cfg: ReviewConfig | None = None
    done: int = 0
    current: str = ""
    page: tuple[int, int] | None = None  # OCR page k of n of the current file
    import_id: int | None = None
    stop_requested: bool = False
    _thread: threading.Thread | None = None
    _started: threading.Event = field(default_factory=threading.Event)

    def start(self) -> ImportJob:
        self._thread = threading.Thread(target=self._run, name="review-import", daemon=True)
        self._thread.start()
        self._started.wait(30)  # the import record exists once start() returns
        return self

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        def on_page(f: str, k: int, n: int) -> None:
            self.current, self.page = Path(f).name, (k, n)

        def on_done(i: int, n: int, f: Path, state: str, err: str | None) -> None:
            self.done, self.page = i, None
            if i < len(self.files):
                self.current = self.files[i].name

        def on_start(iid: int) -> None:
            self.import_id = iid
            self._started.set()

        self.current = self.files[0].name if self.files else ""
        use_all_cores()  # scans on every core, through the CLI's shared page workers
        ocr_pages.set_progress(on_page)
        try:
            run_import(self.store, self.files, self.cfg, self.skipped, self.who, on_done,
                       should_stop=lambda: self.stop_requested, on_start=on_start)
        except Exception:  # noqa: S110 - run_import has recorded the import as stopped, with the reason
            pass
        finally:
            ocr_pages.set_progress(None)
            self._started.set()
