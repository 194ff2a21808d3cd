"""PDF soak (issue 11): staff printing invoices for minutes on end; does the server's memory grow?

    .venv/bin/python -m bench.soak                    # 8 users, 10 minutes
    .venv/bin/python -m bench.soak --minutes 1        # a short try
    .venv/bin/python -m bench.run_all --only soak     # also writes docs/PERFORMANCE.md

The same set-up as bench/load.py (five years of data, the real server as a subprocess on
127.0.0.1, every user logged in once with a real POST /login). Users with the roles that may
print a vehicle invoice (ACCOUNTS, MANAGER, ADMIN) then click without pause, mostly on invoice
PDFs (SOAK_ROUTES: four clicks in five), among a few screens, for a fixed time. The invoices are
drawn at random from a pool of distinct ones (--invoices, default 2,000), so that a cache of
printed documents, if the server keeps one, shows what it costs.

Every 10 s (--every) the total RSS and PSS of the server's process tree (the pid of `serve` and
all its descendants, read from /proc) is sampled with the number of PDFs served so far. Reported:
the series, start/peak/end, and the growth per 1,000 PDFs, both as (end - start) / PDFs and as
the least-squares slope of RSS against PDFs over all samples (less sensitive to where the last
sample fell in a garbage-collection cycle).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

from .load import REQUEST_TIMEOUT_S, Bench, Stats, _click, _errors, _ms, _said, log_in, merged, warm_up

# (key, weight, endpoint, extra capability, path, label): as bench/load.py's ROUTES.
SOAK_ROUTES = [
    ("invoice_pdf", 16, "billing.invoice_pdf", "invoice.read_vehicle", "/billing/invoices/{invoice}/pdf",
     "an invoice PDF (three copies)"),
    ("invoice", 2, "billing.invoice_detail", "invoice.read_vehicle", "/billing/invoices/{invoice}",
     "an invoice page"),
    ("dashboard", 1, "dashboard.home", None, "/", "GET / dashboard"),
    ("sales_register", 1, "billing.sales_register", None,
     "/billing/registers/sales?kind=VEHICLE&from={fy_start}&to={today}", "sales register (vehicle, this FY)"),
]
SOAK_ROLES = ("ACCOUNTS", "MANAGER", "ADMIN", "ACCOUNTS")
INVOICE_POOL = 2000
SETTLE_S = 60  # growth is also given from this second on (helper processes started, caches filled)


def _served(stats: Stats) -> int:
    """Answers that were not errors."""
    return len(stats.latencies) - sum(v for k, v in stats.errors.items() if k[:1].isdigit())


async def _soak(bench: Bench, users_count: int, seconds: float, every: float) -> dict:
    from .load import routes

    progress = bench.progress
    listed = routes(bench.b.app, SOAK_ROUTES)
    users = bench.users(users_count, listed=listed, roles=SOAK_ROLES)
    try:
        progress(f"{users_count} users: logging in at once ...")
        logins = await log_in(users, bench.pin)
        await warm_up(users)
        stats = {r.key: Stats(r.key, r.label) for r in listed}
        samples = []
        started = time.monotonic()

        def sample() -> None:
            usage = bench.server.usage()
            samples.append({"t_s": round(time.monotonic() - started, 1), "pdfs": _served(stats["invoice_pdf"]),
                            "requests": sum(len(s.latencies) for s in stats.values()),
                            "processes": usage["processes"], "rss_kib": usage["rss_kib"],
                            "pss_kib": usage["pss_kib"], "cpu_s": usage["cpu_s"]})

        async def sampler(until: float) -> None:
            while True:
                sample()
                last = samples[-1]
                progress(f"t={last['t_s']:>6.0f} s  PDFs {last['pdfs']:>6}  processes {last['processes']}  "
                         f"RSS {last['rss_kib'] / 1024:,.1f} MiB  PSS {last['pss_kib'] / 1024:,.1f} MiB")
                wait = min(every, until - time.monotonic())
                if wait <= 0:
                    return
                await asyncio.sleep(wait)

        progress(f"{users_count} users: PDFs and a few screens for {seconds / 60:g} min, sampling every {every:g} s")
        until = started + seconds
        await asyncio.gather(sampler(until), *(_click(u, until, stats, None) for u in users))
        elapsed = time.monotonic() - started
        sample()  # after the last answers
    finally:
        await asyncio.gather(*(u.close() for u in users))
    rows = [s.summary(elapsed) for s in stats.values() if s.latencies or s.errors]
    overall = merged("overall", "**all routes**", list(stats.values())).summary(elapsed)
    return {"users": users_count, "roles": sorted({u.staff.role for u in users}), "logins": logins,
            "seconds": round(elapsed, 1), "routes": rows, "overall": overall, "samples": samples,
            "memory": memory_summary(samples)}


def _growth(samples: list[dict]) -> tuple[float | None, float | None]:
    """MiB per 1,000 PDFs over these samples: (end - start) / PDFs, and the least-squares slope."""
    start, end = samples[0], samples[-1]
    pdfs = end["pdfs"] - start["pdfs"]
    if not pdfs:
        return None, None
    growth = (end["rss_kib"] - start["rss_kib"]) / 1024 / pdfs * 1000
    points = [(s["pdfs"], s["rss_kib"] / 1024) for s in samples]
    slope = None
    if len({x for x, _ in points}) > 1:
        slope = statistics.linear_regression(*zip(*points)).slope * 1000
    return round(growth, 2), None if slope is None else round(slope, 2)


def memory_summary(samples: list[dict], settle_s: float = SETTLE_S) -> dict:
    """Start/peak/end, and the growth per 1,000 PDFs from the start and after settle_s seconds (the server
    may start helper processes and fill its caches during the first PDFs: that is not a leak)."""
    start, end = samples[0], samples[-1]
    peak = max(samples, key=lambda s: s["rss_kib"])
    growth, slope = _growth(samples)
    settled = [s for s in samples if s["t_s"] >= settle_s]
    settled = settled if len(settled) >= 3 else []
    steady = _growth(settled) if settled else (None, None)
    return {"start_mib": round(start["rss_kib"] / 1024, 1), "peak_mib": round(peak["rss_kib"] / 1024, 1),
            "peak_t_s": peak["t_s"], "end_mib": round(end["rss_kib"] / 1024, 1),
            "start_pss_mib": round(start["pss_kib"] / 1024, 1), "end_pss_mib": round(end["pss_kib"] / 1024, 1),
            "processes": sorted({s["processes"] for s in samples}),
            "pdfs": end["pdfs"] - start["pdfs"], "growth_mib_per_1000_pdfs": growth, "slope_mib_per_1000_pdfs": slope,
            "settle_s": settle_s, "settled_from_mib": round(settled[0]["rss_kib"] / 1024, 1) if settled else None,
            "settled_pdfs": (end["pdfs"] - settled[0]["pdfs"]) if settled else 0,
            "steady_growth_mib_per_1000_pdfs": steady[0], "steady_slope_mib_per_1000_pdfs": steady[1]}


def run(minutes: float = 10, users: int = 8, every: float = 10, invoices: int = INVOICE_POOL,
        progress=print) -> dict:
    from .load import server_description

    with Bench(progress, invoice_pool=invoices, prefix="erp-bench-soak-") as bench:
        result = asyncio.run(_soak(bench, users, minutes * 60, every))
        result.update({"date": time.strftime("%Y-%m-%d %H:%M %Z"), "postgresql": bench.b.pg_version,
                       "generated": bench.b.counts, "server_command": server_description(bench),
                       "server_banner": bench.server.banner(),
                       "minutes": minutes, "every_s": every, "invoice_pool": len(bench.data.invoices)})
    result["server_log"] = bench.problems
    result["server_log_file"] = bench.kept_log
    return result


def soak_block(r: dict) -> str:
    """The docs/PERFORMANCE.md block (bench:soak)."""
    from .load import route_table
    from .run_all import machine

    info = machine()
    g, m = r["generated"], r["memory"]
    log = r.get("server_log") or {}
    lines = [
        f"Measured {r['date']} on {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, PostgreSQL "
        f"{r['postgresql']}, with `generate-history`'s five years ({g['invoices']:,} vehicle invoices). Server: "
        f"`{r['server_command']}` as a subprocess{_said(r)}; {r['users']} users ({', '.join(r['roles'])}) logged in once, "
        f"then clicked without pause for {r['seconds']:g} s, four clicks in five on an invoice PDF (three copies) "
        f"drawn at random from {r['invoice_pool']:,} distinct invoices, the rest on the invoice page, the "
        f"dashboard and the sales register. Memory: the RSS (and PSS) summed over the server's process tree "
        f"from /proc, every {r['every_s']:g} s. Errors: any status >= 400, a redirect to /login, a timeout "
        f"({REQUEST_TIMEOUT_S:g} s) or a connection error.",
        "",
        f"**Memory**: RSS {m['start_mib']:,} MiB at the start, peak {m['peak_mib']:,} MiB (at {m['peak_t_s']:g} s), "
        f"{m['end_mib']:,} MiB at the end (PSS {m['start_pss_mib']:,} -> {m['end_pss_mib']:,} MiB) after "
        f"{m['pdfs']:,} PDFs: growth **{_num(m['growth_mib_per_1000_pdfs'])} MiB per 1,000 PDFs** "
        f"(end - start; least-squares slope over the samples: {_num(m['slope_mib_per_1000_pdfs'])} MiB per "
        f"1,000 PDFs). "
        + (f"From {m['settle_s']:g} s on ({m['settled_from_mib']:,} MiB, {m['settled_pdfs']:,} PDFs), once the "
           f"server's processes were up and warm: **{_num(m['steady_growth_mib_per_1000_pdfs'])} MiB per 1,000 "
           f"PDFs** (slope {_num(m['steady_slope_mib_per_1000_pdfs'])}). "
           if m.get("steady_growth_mib_per_1000_pdfs") is not None else
           f"(Too short for the growth after the first {m['settle_s']:g} s.) ")
        + f"Processes in the tree: {', '.join(map(str, m['processes']))}. "
        f"Server log: {log.get('tracebacks', 0)} tracebacks, {log.get('error_lines', 0)} error lines.",
        "",
        *route_table(r),
        "",
        "| t s | PDFs | processes | RSS MiB | PSS MiB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for s in r["samples"]:
        lines.append(f"| {s['t_s']:g} | {s['pdfs']:,} | {s['processes']} | {s['rss_kib'] / 1024:,.1f} | "
                     f"{s['pss_kib'] / 1024:,.1f} |")
    return "\n".join(lines)


def _num(value) -> str:
    return "—" if value is None else f"{value:+.2f}"


def print_result(r: dict) -> None:
    print(f"\n== PDF soak: {r['users']} users ({', '.join(r['roles'])}), {r['seconds']} s; logins {r['logins']}")
    print(f"{'route':<16}{'requests':>9}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}  errors")
    for row in r["routes"] + [r["overall"]]:
        print(f"{row['key']:<16}{row['requests']:>9}{row['rps']:>8.1f}{_ms(row['p50_ms']):>8}{_ms(row['p95_ms']):>8}"
              f"{_ms(row['p99_ms']):>8}{_ms(row['max_ms']):>9}  {_errors(row)}")
    print(f"\n{'t s':>7}{'PDFs':>8}{'procs':>6}{'RSS MiB':>10}{'PSS MiB':>10}")
    for s in r["samples"]:
        print(f"{s['t_s']:>7.1f}{s['pdfs']:>8}{s['processes']:>6}{s['rss_kib'] / 1024:>10.1f}{s['pss_kib'] / 1024:>10.1f}")
    m = r["memory"]
    print(f"RSS start {m['start_mib']} MiB, peak {m['peak_mib']} MiB at {m['peak_t_s']} s, end {m['end_mib']} MiB; "
          f"{m['pdfs']} PDFs; growth {_num(m['growth_mib_per_1000_pdfs'])} MiB/1,000 PDFs "
          f"(slope {_num(m['slope_mib_per_1000_pdfs'])}); after {m['settle_s']:g} s: "
          f"{_num(m['steady_growth_mib_per_1000_pdfs'])} (slope {_num(m['steady_slope_mib_per_1000_pdfs'])}) over "
          f"{m['settled_pdfs']} PDFs; processes {m['processes']}")
    log = r.get("server_log") or {}
    print(f"server log ({r.get('server_log_file')}): {log.get('tracebacks')} tracebacks, "
          f"{log.get('error_lines')} error lines {log.get('exceptions') or ''}")
    for line in log.get("first_error_lines", [])[:10]:
        print("   ", line[:200])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="PDF soak: invoice PDFs for minutes; the server's memory.")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--every", type=float, default=10, help="seconds between memory samples")
    parser.add_argument("--invoices", type=int, default=INVOICE_POOL, help="distinct invoices printed at random")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON too")
    args = parser.parse_args(argv)
    result = run(args.minutes, args.users, args.every, args.invoices,
                 progress=lambda m: print(f"[soak] {m}", file=sys.stderr, flush=True))
    print_result(result)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
