"""WeasyPrint's half of printing: HTML in, PDF bytes out, in a process of its own.

Laying out an A4 invoice takes WeasyPrint 0.3-0.4 s of pure Python. Done in a request thread it
holds the interpreter lock all that time, and every other request of that server process waits
behind it. So the request thread renders the Jinja template (a few milliseconds) and hands the
HTML to a small pool of render processes (``Renderer``); it waits without holding the lock, and
the other threads go on serving.

A render process keeps one WeasyPrint font configuration for its life (a fresh one per document
grows the process by about 330 KiB per PDF) and is replaced after ``MAX_PDFS_PER_PROCESS``
documents, so whatever else a long run leaves behind is given back.

This module imports neither Flask nor the app: it is what the render processes load.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

MAX_PDFS_PER_PROCESS = 200


# --------------------------------------------------------------------------- the render process


def _static_file(root: Path, url: str) -> str:
    """The file: URL of a file under static/, a data: URI as it is (its bytes are in the URI:
    nothing is read or fetched), or ValueError for anything else (http, other files)."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return url
    path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise ValueError(f"a printed document may only use the app's static files, not {url}")
    return path.as_uri()


def _static_only_fetcher(root: Path):
    """A URL fetcher for WeasyPrint that serves files under static/ and refuses everything else."""
    import weasyprint

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint 68 and later: a fetcher class

        class StaticOnly(weasyprint.URLFetcher):
            def fetch(self, url, headers=None):
                return super().fetch(_static_file(root, url), headers)

        return StaticOnly(allowed_protocols={"file", "data"})

    def fetch(url: str, *args, **kwargs):  # earlier WeasyPrint: a function
        return weasyprint.default_url_fetcher(_static_file(root, url), *args, **kwargs)

    return fetch


_fonts = None           # this process's one FontConfiguration
_stamps: dict[str, bytes] = {}  # copy-title page HTML -> its PDF


def _font_config():
    global _fonts
    if _fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        _fonts = FontConfiguration()
    return _fonts


def _write_pdf(html: str, static_root: str) -> bytes:
    from weasyprint import HTML

    root = Path(static_root)
    # base_url: "css/pdf.css" and "fonts/..." in a template resolve inside static/.
    return HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=_static_only_fetcher(root)).write_pdf(
        font_config=_font_config())


def lay_out(html: str, static_root: str, stamps: tuple[str, ...] = ()) -> bytes:
    """The PDF of ``html``. With ``stamps`` (the HTML of one title page per copy: "ORIGINAL FOR
    RECIPIENT", ...), the document is laid out once, with a blank title line, and each copy's
    pages get their title stamped into that line: a three-copy invoice costs one layout, and
    each copy's pages are numbered on their own ("Page 1 of 1")."""
    body = _write_pdf(html, static_root)
    if not stamps:
        return body
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for stamp_html in stamps:
        if stamp_html not in _stamps:
            _stamps[stamp_html] = _write_pdf(stamp_html, static_root)
        stamp = PdfReader(BytesIO(_stamps[stamp_html])).pages[0]
        # A fresh reader per copy: pages added twice from one reader would share their stamps.
        for page in PdfReader(BytesIO(body)).pages:
            writer.add_page(page).merge_page(stamp)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _end_with_parent(parent: int) -> None:
    """Run in each render process as it starts: it ends when the server process that started it is
    gone. A server process killed outright (kill -9, a worker gunicorn's master gives up on) never
    shuts its pool down, and its render processes would otherwise live on, orphaned, for good."""

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="render-parent-watch", daemon=True).start()


# --------------------------------------------------------------------------- the request side


class Renderer:
    """Hands ``lay_out`` to a pool of ``workers`` render processes (0: lay out in the calling
    thread, as a one-off command or a debugger wants). The pool starts on first use and belongs to
    the process that started it: a server process forked after that starts its own."""

    _shared: dict[tuple[int, float], Renderer] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, workers: int, timeout: float) -> Renderer:
        """One pool per configuration for the whole process (every app instance in it uses it)."""
        with cls._shared_lock:
            found = cls._shared.get((workers, timeout))
            if found is None:
                found = cls._shared[(workers, timeout)] = cls(workers, timeout)
            return found

    def __init__(self, workers: int, timeout: float):
        self.workers = workers
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                # spawn, not fork: a server process has threads, and a forked copy of a process
                # with threads may inherit a lock some other thread held.
                self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                                 mp_context=multiprocessing.get_context("spawn"),
                                                 max_tasks_per_child=MAX_PDFS_PER_PROCESS,
                                                 initializer=_end_with_parent, initargs=(os.getpid(),))
                self._pid = os.getpid()
            return self._pool

    def lay_out(self, html: str, static_root: str, stamps: tuple[str, ...] = ()) -> bytes:
        if self.workers <= 0:
            return lay_out(html, static_root, stamps)
        for attempt in (1, 2):
            pool = self._executor()
            try:
                return pool.submit(lay_out, html, static_root, stamps).result(timeout=self.timeout)
            except BrokenProcessPool:
                # A render process died (killed, out of memory): a new pool, and one more try.
                log.warning("a PDF render process died; starting the pool again (attempt %s)", attempt)
                with self._lock:
                    if self._pool is pool:
                        self._pool = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def warm(self, static_root: str) -> None:
        """Start the render processes now, without waiting: a process's first layout imports
        WeasyPrint and loads the fonts (seconds), which the first print of the day then skips."""
        if self.workers > 0:
            for _ in range(self.workers):
                self._executor().submit(lay_out, "<p></p>", static_root)

    def shutdown(self) -> None:
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
