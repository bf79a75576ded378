"""Scanned pages at scale: OCR in parallel across cores, progress, and a per-page disk cache.

A long scan (300 pages) is read page by page in worker processes; each worker renders or loads only
the page it is reading, so memory stays bounded by the number of workers. The workers are started
once per process (:func:`shared_pool`) and serve every file after, with their models loaded. Every finished page is
written to a cache keyed by the file's content and the OCR code's version, so a run that is stopped
(Ctrl-C, a crash, a closed laptop) resumes where it left off: finished pages are not read again.

Settings (environment): ``EXTRACTOR_OCR_WORKERS`` (default: all cores from the CLI, 1 when used as
a library; see :func:`use_all_cores`), ``EXTRACTOR_OCR_CACHE``
(a directory, or ``off``; default ``~/.cache/perf-extractor/ocr``).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from pathlib import Path

from extractor.core.cores import all_cores_allowed, cores
from extractor.core.document import Cell, Page, page_from_cells

ProgressHook = Callable[[str, int, int], None]  # (file, pages done, pages to read)
_progress: ProgressHook | None = None


def set_progress(hook: ProgressHook | None) -> None:
    """Report OCR progress of the current file to ``hook`` (the CLI draws a bar with it)."""
    global _progress
    _progress = hook


def workers() -> int:
    env = os.environ.get("EXTRACTOR_OCR_WORKERS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    if not all_cores_allowed():
        return 1
    return cores()


def cache_root() -> Path | None:
    env = os.environ.get("EXTRACTOR_OCR_CACHE", "").strip()
    if env.lower() in {"off", "0", "no", "false"}:
        return None
    return Path(env) if env else Path.home() / ".cache" / "perf-extractor" / "ocr"


@lru_cache(maxsize=1)
def _code_version() -> str:
    """Changes whenever the OCR code or the OCR engine changes, so stale cached pages are never used."""
    from importlib.metadata import version

    from extractor.ocr import cells as ocr
    from extractor.ocr import image as ocr_image
    from extractor.ocr import page_images
    from extractor.ocr import text as ocr_text

    h = hashlib.sha256()
    for mod in (ocr, ocr_image, ocr_text, page_images):
        h.update(Path(mod.__file__).read_bytes())  # type: ignore[arg-type]
    h.update(version("rapidocr").encode())
    return h.hexdigest()[:16]


def _file_key(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:32] + "-" + _code_version()


# ---- one page, in a worker -------------------------------------------------------------------

Rows = list[tuple[list[list], bool]]  # [(cells as [text, bbox, confidence], in the grid)]


def _read_one(path: str, kind: str, index: int) -> tuple[Rows, float, float]:
    """OCR page ``index`` (0-based) of a PDF or an image file; plain data, so it crosses processes."""
    from extractor.ocr.cells import page_cells
    from extractor.ocr.page_images import page_image

    img, dpi = page_image(path, index, pdf=kind == "pdf")
    rows = page_cells(img, 72.0 / dpi)
    out = [([[c.text, [float(v) for v in c.bbox] if c.bbox else None,
              None if c.confidence is None else float(c.confidence)] for c in cells], bool(exact))
           for _y, cells, exact in rows]
    return out, img.shape[1] * 72.0 / dpi, img.shape[0] * 72.0 / dpi


def _init_worker() -> None:
    # one onnxruntime thread per worker process: the processes already fill the cores
    os.environ["EXTRACTOR_OCR_THREADS"] = "1"


def _to_page(number: int, data: tuple[Rows, float, float]) -> Page:
    rows, width, height = data
    cells = [([Cell(t, bbox=tuple(b) if b else None, confidence=c) for t, b, c in cs], exact) for cs, exact in rows]
    page = page_from_cells(number, cells)
    page.width, page.height = width, height
    return page


# ---- a file's pages ----------------------------------------------------------------------------

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def shared_pool(n: int) -> ProcessPoolExecutor:
    """The page workers, started once and kept for the process's life: each loads the OCR models once
    and reuses them for every page of every file (a batch of one-page scans pays the load once per
    worker, not once per file). Grown when more workers are asked for; rebuilt after a crash."""
    global _pool, _pool_size
    with _pool_lock:
        broken = _pool is not None and getattr(_pool, "_broken", False)
        if _pool is None or broken or _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            ctx = multiprocessing.get_context("spawn")  # no fork after onnxruntime threads exist
            _pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker)
            _pool_size = n
        return _pool


def pool_size() -> int:
    """How many page workers the shared pool has (0: none started, pages were read in this process)."""
    return _pool_size if _pool is not None else 0


def close_pool() -> None:
    """Stop the page workers (at exit; tests)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_size = None, 0


atexit.register(close_pool)


def _parallel(path: str, kind: str, todo: list[int], n: int,
              finished: Callable[[int, tuple[Rows, float, float]], None]) -> None:
    pool = shared_pool(n)
    futures = {pool.submit(_read_one, path, kind, i): i for i in todo}
    try:
        for fut in as_completed(futures):
            finished(futures[fut], fut.result())
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise


def _keep(cache_dir: Path | None, i: int, data: tuple[Rows, float, float]) -> None:
    if cache_dir:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_dir / f"{i}.json.tmp.{os.getpid()}"
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            tmp.replace(cache_dir / f"{i}.json")
        except OSError:
            pass  # a read-only cache must not stop the work


def read_page(path: str, kind: str, index: int) -> tuple[Rows, float, float]:
    """One page read in a batch worker and kept in the page cache (a stopped batch resumes from it)."""
    data = _read_one(path, kind, index)
    root = cache_root()
    _keep(root / _file_key(path) if root else None, index, data)
    return data


class PagesWanted(BaseException):  # noqa: N818 - a request, not an error; BaseException so no handler eats it
    """Raised in a batch worker for a file with several pages to OCR: the batch hands the pages to the
    whole pool (:mod:`extractor.pipeline.parallel`) and runs the file again with them read."""

    def __init__(self, path: str, kind: str, todo: list[int]) -> None:
        super().__init__(path, kind, todo)
        self.path, self.kind, self.todo = path, kind, todo


_delegate = False
_preloaded: dict[tuple[str, int], tuple[Rows, float, float]] = {}


def delegate_pages(on: bool = True) -> None:
    """In a batch worker: ask for a file's pages (:class:`PagesWanted`) instead of reading them one
    after another here, when there are several."""
    global _delegate
    _delegate = on


def preload(pages: dict[tuple[str, int], tuple[Rows, float, float]]) -> None:
    """Pages already read elsewhere ((path, index) -> data), used before the cache and the engine."""
    _preloaded.clear()
    _preloaded.update(pages)


def ocr_pages(path: str, kind: str, indices: list[int]) -> dict[int, Page]:
    """Pages ``indices`` (0-based) of a scanned PDF (``kind='pdf'``) or image file, OCR'd; keyed by index."""
    root = cache_root()
    cache_dir = root / _file_key(path) if root else None
    done: dict[int, tuple[Rows, float, float]] = {}
    for i in indices:
        if (path, i) in _preloaded:
            done[i] = _preloaded.pop((path, i))
    if cache_dir and cache_dir.is_dir():
        for i in indices:
            f = cache_dir / f"{i}.json"
            if i not in done and f.is_file():
                try:
                    rows, w, h = json.loads(f.read_text(encoding="utf-8"))
                    done[i] = (rows, w, h)
                except (ValueError, OSError):
                    pass  # a half-written page from a killed run: read it again
    todo = [i for i in indices if i not in done]
    total = len(indices)

    def finished(i: int, data: tuple[Rows, float, float]) -> None:
        done[i] = data
        _keep(cache_dir, i, data)
        if _progress:
            _progress(path, len(done), total)

    if _progress and done:
        _progress(path, len(done), total)
    if _delegate and len(todo) > 1:
        raise PagesWanted(path, kind, todo)
    n = 1 if _delegate else min(workers(), len(todo))
    if n > 1:
        try:
            _parallel(path, kind, todo, n, finished)
        except (RuntimeError, BrokenProcessPool):
            # no worker processes here (e.g. a script without a __main__ guard): read serially
            pass
    for i in todo:
        if i not in done:
            finished(i, _read_one(path, kind, i))
    return {i: _to_page(i + 1, done[i]) for i in indices}
