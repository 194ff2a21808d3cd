"""flask --app wsgi seed-demo | generate-history, added to the app's command line by wsgi.py.

The generator and the demo showroom are imported only when their command runs, so loading the app
(the server included) imports neither."""
from __future__ import annotations

import secrets

import click
from flask import Flask, current_app

from webapp.cli import add_commands
from webapp.security import pin_is_trivial


def _random_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(1_000_000):06d}"
        if not pin_is_trivial(pin):
            return pin


def history_options(command):
    """The sizes of a generated history: generate-history's options, and seed-demo's with --history."""
    for option in reversed((
            click.option("--units", default=20_000, show_default=True),
            click.option("--parts", default=3_000, show_default=True),
            click.option("--moves", default=1_000_000, show_default=True),
            click.option("--sales", default=30_000, show_default=True,
                         help="Bookings (the units are raised to cover them)"),
            click.option("--job-cards", type=int, default=None,
                         help="The workshop's delivered job cards [default: five per sale, 150,000]"),
            click.option("--seed", default=1, show_default=True, help="Same seed, same data"))):
        command = option(command)
    return command


def _generate_history(units: int, parts: int, moves: int, sales: int, seed: int, job_cards: int | None = None) -> None:
    import time

    from .history import Sizes, generate_history

    began = time.perf_counter()
    try:
        with current_app.extensions["erp_db"].owner_engine.begin() as conn:
            counts = generate_history(conn, Sizes(units=units, parts=parts, moves=moves, sales=sales,
                                                              job_cards=job_cards), seed=seed,
                                      progress=lambda m: click.echo(f"  generating {m} ..."))
    except RuntimeError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"generated {counts} in {time.perf_counter() - began:.1f} s")


@click.command("seed-demo")
@click.option("--history", is_flag=True,
              help="Then five years of generated history into the demo showroom (sizes as generate-history)")
@history_options
def seed_demo_command(history: bool, **sizes):
    """Fill a believable demo showroom; prints every demo PIN once."""
    from .demo import seed_demo

    with current_app.extensions["erp_db"].owner_engine.begin() as conn:
        created = seed_demo(conn, _random_pin, month=not history)   # the history brings its own months
    if not created:
        click.echo("demo showroom already present; nothing added")
    else:
        click.echo("Demo staff (PINs are shown only now; they must be changed at first login):")
        for code, name, role, pin in created:
            click.echo(f"  {code:<8} {role:<16} {name:<24} PIN {pin}")
    if history:  # the demo is committed first: its PINs above stay valid whatever the history meets
        click.echo("Five years of history for the demo showroom:")
        _generate_history(**sizes)


@click.command("generate-history")
@history_options
def generate_history_command(units: int, parts: int, moves: int, sales: int, seed: int, job_cards: int | None):
    """Fill an EMPTY stock, or the demo showroom of seed-demo --history, with five years of generated history (for benchmarks and
    demos, not for a showroom)."""
    _generate_history(units, parts, moves, sales, seed, job_cards)


def register(app: Flask) -> None:
    add_commands(app, (seed_demo_command, generate_history_command))
