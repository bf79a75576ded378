"""Start-up of a command-line process: no cyclic garbage collection while long-lived objects are made.

Importing pydantic, the records, the readers' vocabulary and pymupdf makes a few hundred thousand
objects that live as long as the process (classes, schemas, tables of labels). The cyclic collector
walked them again and again while they were being made: 60 ms of a 0.45 s run on a small PDF, more
than reading its tables. A command-line process (:func:`cli_process_starting`, then
:func:`cli_process_ready`) turns the collector off for its imports and then freezes what they made
(``gc.freeze``: kept out of every later collection); objects made after that are collected as usual.
It also skips pydantic's search for plugins. A library caller (the review app, tests) keeps its
collector as it is, except that none runs in the middle of a heavy import (:func:`heavy_import`).
"""

from __future__ import annotations

import gc
import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

_cli = False


def cli_process_starting() -> None:
    """Called first thing by the command line: no collection until :func:`cli_process_ready`."""
    global _cli
    _cli = True
    gc.disable()
    _no_pydantic_plugins()


def _no_pydantic_plugins() -> None:
    """pydantic looks for plugins among every installed distribution when the first model is built
    (15 ms of a 0.4 s run); the CLI uses none. A user who sets PYDANTIC_DISABLE_PLUGINS keeps their
    setting. With every plugin off, pydantic's loader answers "none" but first imports
    importlib.metadata (and the email package under it): another 12 ms. It is replaced by its one
    function, answering the same."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if os.environ["PYDANTIC_DISABLE_PLUGINS"] in ("__all__", "1", "true") and "pydantic.plugin._loader" not in sys.modules:
        loader = types.ModuleType("pydantic.plugin._loader")
        loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
        sys.modules[loader.__name__] = loader


def cli_process_ready() -> None:
    """The command line's imports are done: what they made is frozen, collection resumes."""
    gc.freeze()
    gc.enable()


@contextmanager
def heavy_import() -> Iterator[None]:
    """Around an import made on first use (pymupdf): no collection while it runs; in a command-line
    process, what it made is frozen like the start-up imports."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _cli:
            gc.freeze()
        if enabled:
            gc.enable()
