"""A batch on every core: files and a big scan's pages share one pool of worker processes.

Each worker runs the one pipeline (:func:`~extractor.pipeline.process.process`) on a file. A file
with several pages to OCR does not read them there one after another: the worker hands them back
(:class:`~extractor.ocr.pages.PagesWanted`), the pages go to the whole pool as page tasks, and the
file runs again with them read, so one 300-page scan uses every core as well as 300 one-page scans do.
The workers are the OCR page workers (:func:`~extractor.ocr.pages.shared_pool`): started once, each
loading the OCR models once. At most ``workers`` files are in flight, so memory is bounded by the
work in flight, not by the batch. Results are handed out as each file finishes; a worker that dies
fails only its own file (the others in flight are run again once).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

from extractor.core.config import ReviewConfig
from extractor.core.errors import ExtractorError
from extractor.core.records import ExtractionResult
from extractor.ocr import pages as ocr_pages
from extractor.pipeline.process import failed, process

PageData = Any  # what ocr.pages reads of one page (plain data, crosses processes)


def run_file(path: str, config: ReviewConfig | None, pages: dict[tuple[str, int], PageData]) -> tuple:
    """In a worker: ``("done", result)``, or ``("pages", path, kind, todo)`` when the file has several
    pages to OCR that are not among ``pages``."""
    ocr_pages.delegate_pages(True)
    ocr_pages.preload(pages)
    try:
        return ("done", process(path, config))
    except ocr_pages.PagesWanted as want:
        return ("pages", want.path, want.kind, want.todo)
    finally:
        ocr_pages.preload({})


class WorkerLost(ExtractorError):
    """The process reading a file died twice (memory, or a crash in a native library)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"处理文件「{name}」的工作进程两次意外退出（可能是内存不足，或文件触发了底层库崩溃），"
                         "该文件未能处理；其余文件不受影响")


class Engine(Protocol):
    """Where the batch's tasks run: this machine's worker processes (:class:`LocalEngine`) or a Ray
    cluster (:class:`extractor.pipeline.on_ray.RayEngine`). Both run the same two functions."""

    slots: int  # files in flight at most
    lost: tuple[type[BaseException], ...]  # what a task's result raises when its worker died

    def submit_file(self, path: str, config: ReviewConfig | None, pages: dict) -> Any: ...

    def submit_page(self, path: str, kind: str, index: int) -> Any: ...

    def wait(self, handles: list[Any]) -> list[Any]: ...

    def result(self, handle: Any) -> Any: ...


class LocalEngine:
    """This machine's OCR page workers (:func:`~extractor.ocr.pages.shared_pool`)."""

    lost = (BrokenProcessPool,)

    def __init__(self, workers: int) -> None:
        self.slots = workers

    def submit_file(self, path: str, config: ReviewConfig | None, pages: dict) -> Future:
        return ocr_pages.shared_pool(self.slots).submit(run_file, path, config, pages)

    def submit_page(self, path: str, kind: str, index: int) -> Future:
        return ocr_pages.shared_pool(self.slots).submit(ocr_pages.read_page, path, kind, index)

    def wait(self, handles: list[Future]) -> list[Future]:
        return list(wait(handles, return_when=FIRST_COMPLETED)[0])

    def result(self, handle: Future) -> Any:
        return handle.result()


def map_files(files: list[Path], config: ReviewConfig | None, engine: Engine | int,
              on_result: Callable[[int, ExtractionResult], None]) -> None:
    """Run every file on ``engine`` (a worker count means this machine's workers); ``on_result(k,
    result)`` as file ``k`` finishes (in completion order, in this process, so the caller may write
    outputs there)."""
    if isinstance(engine, int):
        engine = LocalEngine(engine)
    queue = deque(range(len(files)))
    running: dict[Any, tuple] = {}
    files_in_flight = 0
    wanted: dict[int, tuple[str, list[int]]] = {}  # file -> (path as OCR saw it, pages to read)
    got: dict[int, dict[tuple[str, int], PageData]] = {}
    retried: set[int] = set()

    def submit_file(k: int, pages: dict | None = None) -> None:
        nonlocal files_in_flight
        running[engine.submit_file(str(files[k]), config, pages or {})] = ("file", k)
        files_in_flight += 1

    def lost(k: int) -> None:
        """A file whose worker died: run once more (it may have been a neighbour's crash), then failed."""
        wanted.pop(k, None)
        got.pop(k, None)
        if k in retried:
            on_result(k, failed(files[k], WorkerLost(files[k].name)))
        else:
            retried.add(k)
            queue.appendleft(k)

    while queue or running:
        while queue and files_in_flight < engine.slots:
            submit_file(queue.popleft())
        for handle in engine.wait(list(running)):
            tag = running.pop(handle)
            k = tag[1]
            if tag[0] == "file":
                files_in_flight -= 1
                try:
                    out = engine.result(handle)
                except engine.lost:
                    lost(k)
                    continue
                except Exception as exc:  # a result that could not cross processes, say
                    on_result(k, failed(files[k], exc))
                    continue
                if out[0] == "done":
                    on_result(k, out[1])
                    continue
                _, path, kind, todo = out
                wanted[k], got[k] = (path, todo), {}
                for i in todo:
                    running[engine.submit_page(path, kind, i)] = ("page", k, i)
                continue
            i = tag[2]
            if k not in wanted:  # the file already failed on another page
                continue
            try:
                data = engine.result(handle)
            except engine.lost:
                lost(k)
                continue
            except Exception as exc:
                wanted.pop(k)
                got.pop(k)
                on_result(k, failed(files[k], exc))
                continue
            path, todo = wanted[k]
            got[k][(path, i)] = data
            if ocr_pages._progress:
                ocr_pages._progress(path, len(got[k]), len(todo))
            if len(got[k]) == len(todo):
                del wanted[k]
                submit_file(k, got.pop(k))  # ahead of the files still queued: it is nearly done
