"""How many cores this process may use, and whether scanned pages may use them all by default.

Kept apart from :mod:`extractor.ocr.pages` (process pools, the page cache) so the CLI can say "every
core" without importing the OCR machinery a file of digital forms never needs."""

from __future__ import annotations

import os

_use_all_cores = False


def use_all_cores(on: bool = True) -> None:
    """Let scans use every core by default. The CLI turns this on; library callers stay serial unless
    they ask (spawned workers re-import the caller's ``__main__``, which must then be guarded)."""
    global _use_all_cores
    _use_all_cores = on


def all_cores_allowed() -> bool:
    """Has the caller let scans use every core (:func:`use_all_cores`)?"""
    return _use_all_cores


def cores() -> int:
    """Every core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
