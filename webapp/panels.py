"""Panels one module draws on another module's page.

The sale page shows billing's money panel and insurance's policy panel; the service, CRM and finance
modules will hang theirs on the vehicle, sale and customer pages. A page names a *slot* ("sale",
"vehicle", "customer"...) and draws whatever is registered there; each module registers its own
panels when its blueprint is registered on the app (``register_panel`` from a
``Blueprint.record_once`` hook, see webapp/billing/__init__.py). So the page imports no other
module's code, and a new module adds a panel without touching the page.

A panel is a template and a context function ``(conn, subject) -> dict | None``; None leaves the
panel out (e.g. the role may not see it). The page's template includes each drawn panel with its
context (templates/_macros/panels.html ``draw_panels``). Panels are drawn inline, in the page's own
request and transaction (statement budgets count them), not fetched afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from flask import Flask, current_app, render_template
from markupsafe import Markup
from sqlalchemy.engine import Connection

ContextFn = Callable[[Connection, Mapping[str, Any]], "dict | None"]


@dataclass(frozen=True)
class Panel:
    slot: str
    name: str           # unique within the slot, e.g. "billing.money"
    template: str
    context: ContextFn
    order: int = 50     # lower draws first


@dataclass(frozen=True)
class DrawnPanel:
    name: str
    html: Markup


def register_panel(app: Flask, slot: str, name: str, template: str, context: ContextFn, order: int = 50) -> None:
    slots: dict[str, list[Panel]] = app.extensions.setdefault("erp_panels", {})
    panels = slots.setdefault(slot, [])
    if any(p.name == name for p in panels):
        raise ValueError(f"panel {name!r} is already registered on {slot!r}")
    panels.append(Panel(slot, name, template, context, order))
    panels.sort(key=lambda p: (p.order, p.name))


def registered(slot: str, app: Flask | None = None) -> list[Panel]:
    return list((app or current_app).extensions.get("erp_panels", {}).get(slot, ()))


def draw(slot: str, conn: Connection, subject: Mapping[str, Any]) -> list[DrawnPanel]:
    """Each panel registered on the slot drawn for this subject, in order; panels whose context
    function returns None are left out."""
    drawn = []
    for panel in registered(slot):
        context = panel.context(conn, subject)
        if context is not None:
            drawn.append(DrawnPanel(panel.name, Markup(render_template(panel.template, **context))))
    return drawn
