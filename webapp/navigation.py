"""The module navigation. An entry is shown only to roles its route admits, read from the
route's own role declaration, so the menu and the access rules cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_login import current_user

from .security import role_may_use


@dataclass(frozen=True)
class NavLink:
    label: str
    endpoint: str
    description: str

    def is_current(self, endpoint: str | None) -> bool:
        """'master.staff_edit' belongs to the link 'master.staff_list'."""
        return bool(endpoint) and endpoint.startswith(self.endpoint.rsplit("_", 1)[0])


@dataclass(frozen=True)
class NavSection:
    title: str
    links: tuple[NavLink, ...]


# Later modules append their sections here.
SECTIONS: list[NavSection] = [
    NavSection("Stock", (
    )),
    NavSection("Purchasing", (
    )),
    NavSection("Catalog", (
    )),
    NavSection("Administration", (
        NavLink("Staff", "master.staff_list", "Add staff, reset PINs, deactivate"),
        NavLink("Showroom profile", "master.branch_list", "Branches, GSTIN, invoice series"),
        NavLink("Audit log", "audit.log_list", "Who changed what, and when"),
    )),
    NavSection("My account", (
        NavLink("My profile", "auth.profile", "Change your PIN, log out other devices"),
    )),
]


def visible_sections() -> list[NavSection]:
    if not current_user.is_authenticated:
        return []
    shown = []
    for section in SECTIONS:
        links = tuple(link for link in section.links if role_may_use(current_user.role, link.endpoint))
        if links:
            shown.append(NavSection(section.title, links))
    return shown


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_sections"] = visible_sections
