"""The module navigation. An entry is shown only to roles its route admits, read from the
route's own role declaration, so the menu and the access rules cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from .security import can, role_may_use


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

    def is_current(self, endpoint: str | None) -> bool:
        """The section the page belongs to: one of its links is current (the top bar marks it)."""
        return any(link.is_current(endpoint) for link in self.links)


# Later modules append their sections here.
SECTIONS: list[NavSection] = [
    NavSection("Sales", (
        # The leads are crm's (webapp/crm): in this section, where the sale they become is (the enquiries' place).
        # Follow-ups, test rides, the OEM portal upload and the funnel are reached from the list of leads (and
        # the follow-ups from the dashboard): the tablet's menu has no room for more links.
        NavLink("Leads", "crm.lead_list", "Leads, follow-ups, test rides, OEM portal leads, the funnel"),
        NavLink("Pipeline", "sales.pipeline", "Bookings by stage: what each sale still needs"),
        NavLink("Bookings", "sales.booking_list", "Find a booking by number, customer or mobile"),
        NavLink("Discount approvals", "sales.discount_list", "Discounts above a salesperson's limit"),
        NavLink("Subsidy claims", "sales.subsidy_list", "PM E-DRIVE vouchers and OEM claims pending"),
        NavLink("Insurance renewals", "insurance.renewals", "Policies whose own-damage or third-party cover ends"),
        NavLink("Sales settings", "sales.settings", "Discount limits, on-road charges, PDI checklist"),
    )),
    NavSection("Workshop", (
        NavLink("Arrival", "service.arrival", "Find a vehicle by number, VIN, battery or mobile; open a job card"),
        NavLink("Workshop board", "service.board", "Open job cards by state; move them along with a tap"),
        NavLink("Register a vehicle", "service.vehicle_new", "A vehicle sold elsewhere, for the workshop only"),
        NavLink("Parts requests", "service.parts_requests", "Parts job cards need that are not in stock"),
        NavLink("Warranty check", "warranty.check", "A sold vehicle's cover, free services and open recalls"),
        NavLink("Warranty claims", "warranty.claim_register", "Claims to the OEM: ageing and the amount pending"),
        NavLink("Returnable parts", "warranty.returnable_parts", "Failed parts tagged for the OEM: held, returned"),
        NavLink("Recalls and campaigns", "warranty.campaign_list", "OEM recalls by VIN list or build months: done / pending"),
        NavLink("Extended plans", "warranty.plan_list", "Extended warranty plans and selling one to a vehicle"),
        NavLink("Workshop settings", "service.settings", "Inspection checklist, battery reading limits"),
    )),
    NavSection("Billing", (
        NavLink("Sales register", "billing.sales_register", "Invoices and credit notes, CSV / Excel"),
        NavLink("Counter sale", "billing.counter_new", "Sell parts and accessories over the counter"),
        NavLink("Receipts register", "billing.receipt_register", "Receipts and refunds by mode"),
        NavLink("Receivables", "billing.receivables", "What customers still owe, by age"),
        # The books (webapp/finance): their own row of links leads to the cash and bank books, ledgers, trial
        # balance, P&L, balance sheet, journal and chart of accounts (the menu has no room for a section).
        NavLink("Books", "finance.day_book", "Day book, ledgers, trial balance, P&L, balance sheet, journal"),
    )),
    NavSection("Stock", (
        NavLink("Vehicles", "inventory.unit_list", "Vehicle stock by VIN, motor no. or battery serial"),
        NavLink("Stock ageing", "inventory.ageing_report", "Units in stock and on demo by age, at cost"),
        NavLink("Parts stock", "inventory.part_stock_list", "Quantities, bins, reorder alerts, stock cards"),
        NavLink("Transfers", "inventory.transfer_list", "Send stock to a branch, receive what is in transit"),
        NavLink("Stock counts", "inventory.count_list", "Physical count sheets, variances, approval"),
    )),
    NavSection("Purchasing", (
        NavLink("Purchase orders", "procurement.po_list", "Orders to OEMs: draft, approve, print, send"),
        NavLink("Goods receipts", "procurement.grn_list", "Receive vehicles from the dispatch list, and parts"),
        NavLink("Purchase invoices", "procurement.pinv_list", "OEM invoices against receipts, GST input, payments"),
        NavLink("Payables", "procurement.payable_list", "What is owed to OEMs, by age"),
    )),
    NavSection("Catalog", (
        NavLink("Customers", "master.customer_list", "Find a customer by name or mobile, add one"),
        NavLink("Models", "oem.model_list", "Models, variants, colours, prices and subsidy"),
        NavLink("Spare parts", "master.part_list", "Part numbers, MRP, GST, which models they fit"),
        NavLink("Labour", "master.labour_list", "Service operations, standard hours and rates"),
        NavLink("OEMs", "oem.oem_list", "Brands we buy from: GSTIN, dealer code, contacts"),
        NavLink("OEM schemes", "oem.scheme_list", "Customer discounts and dealer incentives"),
        NavLink("Financiers", "master.financier_list", "Banks and NBFCs for vehicle loans"),
        NavLink("Insurers", "master.insurer_list", "Insurance companies"),
        NavLink("Tax master", "master.hsn_list", "HSN / SAC codes and their dated GST rates"),
    )),
    NavSection("Administration", (
        NavLink("Staff", "master.staff_list", "Add staff, reset PINs, deactivate"),
        NavLink("Showroom profile", "master.branch_list", "Branches, GSTIN, invoice series"),
        NavLink("Audit log", "audit.log_list", "Who changed what, and when"),
        NavLink("Reminders", "communication.outbox", "Messages sent and queued; rules, templates, channels"),
    )),
    NavSection("My account", (
        NavLink("My profile", "auth.profile", "Change your PIN, log out other devices"),
        NavLink("Call list", "communication.call_list", "Today's reminder calls; note each call's outcome"),
    )),
]


@dataclass(frozen=True)
class ShownLink:
    """A link as a page draws it: the NavLink and its URL."""
    label: str
    endpoint: str
    description: str
    url: str

    is_current = NavLink.is_current


def visible_sections() -> list[NavSection]:
    """The sections the user's role sees, links with their URLs. Routes and role declarations are
    fixed once the app is built, so this is worked out once per (role, script root) and kept on the
    app, instead of a role check and a url_for per link, twice on the dashboard, on every page."""
    if not current_user.is_authenticated:
        return []
    _shown = current_app.extensions.setdefault("erp_navigation", {})
    key = (current_user.role, request.script_root)
    if key not in _shown:
        shown = []
        for section in SECTIONS:
            links = tuple(ShownLink(link.label, link.endpoint, link.description, url_for(link.endpoint))
                          for link in section.links if role_may_use(current_user.role, link.endpoint))
            if links:
                shown.append(NavSection(section.title, links))
        _shown[key] = shown
    return _shown[key]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_sections"] = visible_sections
    app.jinja_env.globals["can"] = can
