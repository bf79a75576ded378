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
from typing import Any

from extractor.core.config import ReviewConfig
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


def map_files(files: list[Path], config: ReviewConfig | None, workers: int,
              on_result: Callable[[int, ExtractionResult], None]) -> None:
    """Run every file; ``on_result(k, result)`` as file ``k`` finishes (in completion order, in this
    process, so the caller may write outputs there)."""
    queue = deque(range(len(files)))
    running: dict[Future, tuple] = {}
    files_in_flight = 0
    wanted: dict[int, tuple[str, list[int]]] = {}  # file -> (path as OCR saw it, pages to read)
    got: dict[int, dict[tuple[str, int], PageData]] = {}
    retried: set[int] = set()

    def submit_file(k: int, pages: dict | None = None) -> None:
        nonlocal files_in_flight
        fut = ocr_pages.shared_pool(workers).submit(run_file, str(files[k]), config, pages or {})
        running[fut] = ("file", k)
        files_in_flight += 1

    def lost(k: int, exc: BaseException) -> None:
        """A file whose worker died: run once more (it may have been a neighbour's crash), then failed."""
        wanted.pop(k, None)
        got.pop(k, None)
        if k in retried:
            on_result(k, failed(files[k], exc))
        else:
            retried.add(k)
            queue.appendleft(k)

    while queue or running:
        while queue and files_in_flight < workers:
            submit_file(queue.popleft())
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for fut in done:
            tag = running.pop(fut)
            k = tag[1]
            if tag[0] == "file":
                files_in_flight -= 1
                try:
                    out = fut.result()
                except BrokenProcessPool as exc:
                    lost(k, exc)
                    continue
                except Exception as exc:  # a result that could not cross processes, say
                    on_result(k, failed(files[k], exc))
                    continue
                if out[0] == "done":
                    on_result(k, out[1])
                    continue
                _, path, kind, todo = out
                wanted[k], got[k] = (path, todo), {}
                pool = ocr_pages.shared_pool(workers)
                for i in todo:
                    running[pool.submit(ocr_pages.read_page, path, kind, i)] = ("page", k, i)
                continue
            i = tag[2]
            if k not in wanted:  # the file already failed on another page
                continue
            try:
                data = fut.result()
            except BrokenProcessPool as exc:
                lost(k, exc)
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
