"""Where a screen's server time goes.

``breakdown()`` (used by ``bench.run_all``) splits the mean time of a request into parts
by timing the ERP's own seams, installed only for these extra requests:

* session row: ``PostgresSessionInterface.open_session`` - pool checkout with its pre-ping,
  BEGIN and the session/staff SELECT;
* screen SQL: every other statement the request executes (SQLAlchemy cursor events);
* template: ``render_template`` (Flask's template signals);
* session write + COMMIT: ``persist`` and ``commit_request`` in the after-request hook;
* the rest: Flask/Werkzeug dispatch, Flask-Login, CSRF, role and setup checks, headers,
  cookies, connection return, and the test client itself.

Run alone to profile one screen (pyinstrument when installed, else cProfile)::

    .venv/bin/python -m bench.profiling /master/staff
    .venv/bin/python -m bench.profiling --tool cprofile --requests 1000 /
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, before_render_template, template_rendered

PARTS = ("session row", "screen SQL", "template", "session write + COMMIT", "the rest")


class _Clock:
    def __init__(self):
        self.totals = dict.fromkeys(PARTS, 0)
        self.depth = 0  # inside open_session / persist: their SQL is not "screen SQL"
        self.sql_start = None
        self.render_start = None

    def add(self, part: str, ns: int) -> None:
        self.totals[part] += ns


@contextmanager
def _instrumented(app: Flask, clock: _Clock):
    import webapp.db as db
    from webapp.sessions import PostgresSessionInterface

    engine = app.extensions["erp_db"].engine
    original_open = PostgresSessionInterface.open_session
    original_persist = PostgresSessionInterface.persist
    original_commit = db.commit_request

    def timed(fn, part):
        def wrapper(*args, **kwargs):
            start = time.perf_counter_ns()
            clock.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                clock.depth -= 1
                clock.add(part, time.perf_counter_ns() - start)
        return wrapper

    def before_sql(*_):
        clock.sql_start = time.perf_counter_ns()

    def after_sql(*_):
        if clock.depth == 0 and clock.sql_start is not None:
            clock.add("screen SQL", time.perf_counter_ns() - clock.sql_start)
        clock.sql_start = None

    def before_render(*_, **__):
        clock.render_start = time.perf_counter_ns()

    def rendered(*_, **__):
        clock.add("template", time.perf_counter_ns() - clock.render_start)

    PostgresSessionInterface.open_session = timed(original_open, "session row")
    PostgresSessionInterface.persist = timed(original_persist, "session write + COMMIT")
    db.commit_request = timed(original_commit, "session write + COMMIT")
    sa.event.listen(engine, "before_cursor_execute", before_sql)
    sa.event.listen(engine, "after_cursor_execute", after_sql)
    before_render_template.connect(before_render, app)
    template_rendered.connect(rendered, app)
    try:
        yield
    finally:
        PostgresSessionInterface.open_session = original_open
        PostgresSessionInterface.persist = original_persist
        db.commit_request = original_commit
        sa.event.remove(engine, "before_cursor_execute", before_sql)
        sa.event.remove(engine, "after_cursor_execute", after_sql)
        before_render_template.disconnect(before_render, app)
        template_rendered.disconnect(rendered, app)


def breakdown(app: Flask, cases, requests: int = 300, keep: float = 0.9) -> dict:
    """{case key: {part: mean ms}} over ``requests`` instrumented requests per case.

    Means, so that the parts add up to the total; trimmed: the slowest (1 - keep) of the
    requests are left out, because on a busy machine a few stalls would otherwise decide the
    means. The timers themselves add a few microseconds per request.
    """
    result = {}
    for timing, call in cases:
        clock = _Clock()
        per_request = []
        with _instrumented(app, clock):
            for _ in range(requests):
                clock.totals = dict.fromkeys(PARTS, 0)
                start = time.perf_counter_ns()
                call().get_data()
                total = time.perf_counter_ns() - start
                parts = dict(clock.totals)
                parts["the rest"] = total - sum(parts.values())
                per_request.append((total, parts))
        per_request.sort(key=lambda item: item[0])
        kept = per_request[: max(1, int(len(per_request) * keep))]
        n = len(kept)
        result[timing.key] = {"total": round(sum(t for t, _ in kept) / n / 1e6, 3),
                              **{part: round(sum(p[part] for _, p in kept) / n / 1e6, 3) for part in PARTS}}
    return result


def main() -> None:
    from . import screens

    parser = argparse.ArgumentParser(description="Profile one screen of the ERP on the bench database.")
    parser.add_argument("path", nargs="?", default="/master/staff",
                        help="path requested as the logged-in ADMIN ('/login' as the terminal, 'floor')")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--tool", choices=("auto", "pyinstrument", "cprofile"), default="auto")
    args = parser.parse_args()

    with screens.prepared() as b:
        if args.path == "floor":
            call = lambda: b.floor.get("/floor")  # noqa: E731
        elif args.path.startswith("/login"):
            call = lambda: b.terminal.get(args.path)  # noqa: E731
        else:
            call = lambda: b.admin.get(args.path)  # noqa: E731
        for _ in range(100):
            screens.timed(call)
        tool = args.tool
        if tool == "auto":
            try:
                import pyinstrument  # noqa: F401

                tool = "pyinstrument"
            except ImportError:
                tool = "cprofile"
        if tool == "pyinstrument":
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            profiler.start()
            for _ in range(args.requests):
                call()
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
        else:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        print(breakdown(b.app, [(screens.Timing(args.path, args.path, "screen"), call)], args.requests))


if __name__ == "__main__":
    main()
