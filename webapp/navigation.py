"""The module navigation. An entry is shown only to roles its route admits, read from the
route's own role declaration, so the menu and the access rules cannot disagree.

The top bar has room for about nine sections on a 1366 px laptop (one row of menu buttons, see
templates/base.html and tests/e2e/test_layout.py), and a tablet's "Menu" panel shows every section
with only one open at a time (its links a tap away). A module therefore joins a section as a group
of links under a small heading (NavLink.group; the links of a group are consecutive) rather than as
a section of its own: crm's leads are a group of Sales, communication's reminder screens a group of
Administration. A section with groups opens as columns, one per group, on a laptop. A new area of
work may be a new section when the row still fits (the layout test says), e.g. "Accounts" holding the
groups Finance and GST returns, "People" holding HR and Payroll."""
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
    group: str = ""           # the heading it is listed under in its section ("": none)

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

    def groups(self) -> list[tuple[str, list]]:
        """The links as drawn: [(heading, links)], consecutive links of one group together ("" for none)."""
        found: list[tuple[str, list]] = []
        for link in self.links:
            if found and found[-1][0] == link.group:
                found[-1][1].append(link)
            else:
                found.append((link.group, [link]))
        return found


STOCK = "Vehicles and parts"   # the group of Stock's own screens (a group is never named like a section)

# Later modules append their sections here.
SECTIONS: list[NavSection] = [
    NavSection("Sales", (
        # The leads are crm's (webapp/crm): in this section, where the sale they become is (the enquiries' place).
        # The OEM portal upload and the list of lost reasons are reached from the list of leads and the analysis.
        NavLink("Leads", "crm.lead_list", "Walk-ins, calls, website and OEM portal leads", "Leads"),
        NavLink("Follow-ups", "crm.follow_ups", "Follow-ups due today and overdue; each call's outcome", "Leads"),
        NavLink("Test rides", "crm.test_ride_list", "Demo scooters out on a ride and back", "Leads"),
        NavLink("Funnel", "crm.funnel", "Leads to test rides to bookings to deliveries", "Leads"),
        NavLink("Lost reasons", "crm.lost_reasons", "Why leads were lost, by source and salesperson", "Leads"),
        NavLink("Pipeline", "sales.pipeline", "Bookings by stage: what each sale still needs", "Bookings"),
        NavLink("Bookings", "sales.booking_list", "Find a booking by number, customer or mobile", "Bookings"),
        NavLink("Discount approvals", "sales.discount_list", "Discounts above a salesperson's limit", "Bookings"),
        NavLink("Subsidy claims", "sales.subsidy_list", "PM E-DRIVE vouchers and OEM claims pending", "Bookings"),
        NavLink("Insurance renewals", "insurance.renewals", "Policies whose own-damage or third-party cover ends",
                "Bookings"),
        NavLink("Sales settings", "sales.settings", "Discount limits, on-road charges, PDI checklist", "Bookings"),
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
    )),
    # The books (webapp/finance): each screen's own row of links leads to its neighbours (the cash and bank
    # books, ledgers and the balance sheet from the trial balance; the cash closing from the expenses).
    NavSection("Accounts", (
        NavLink("Day book", "finance.day_book", "Every voucher of a day or a period; cash and bank books", "Books"),
        NavLink("Trial balance", "finance.trial_balance", "Groups and ledgers: opening, debits, credits, closing",
                "Books"),
        NavLink("Profit and loss", "finance.profit_and_loss", "Gross and net profit for any period; balance sheet",
                "Books"),
        NavLink("Journal", "finance.journal_new", "A manual journal or contra voucher", "Books"),
        NavLink("Chart of accounts", "finance.chart_of_accounts", "Groups, ledgers and bank accounts", "Books"),
        NavLink("Expenses", "finance.expense_list", "Rent, power, fuel...: GST input and the bill's photo",
                "Cash and bank"),
        NavLink("Cash closing", "finance.cash_closing", "The day's cash counted by denomination against the books",
                "Cash and bank"),
        NavLink("Bank reconciliation", "finance.bank_accounts", "Import a statement and match its lines",
                "Cash and bank"),
        NavLink("Closing months", "finance.months", "Close a month in the books; reopen with a reason",
                "Cash and bank"),
        NavLink("GST returns", "finance.gstr1", "GSTR-1 JSON, GSTR-3B, reconciliation with the books", "Returns"),
        NavLink("OEM receivables", "finance.oem_receivables", "Subsidy, warranty and free-service claims, by age",
                "Returns"),
        NavLink("Tally export", "finance.tally_export", "Masters and vouchers as Tally import XML", "Returns"),
    )),
    NavSection("Stock", (
        NavLink("Vehicles", "inventory.unit_list", "Vehicle stock by VIN, motor no. or battery serial", STOCK),
        NavLink("Stock ageing", "inventory.ageing_report", "Units in stock and on demo by age, at cost", STOCK),
        NavLink("Parts stock", "inventory.part_stock_list", "Quantities, bins, reorder alerts, stock cards", STOCK),
        NavLink("Transfers", "inventory.transfer_list", "Send stock to a branch, receive what is in transit", STOCK),
        NavLink("Stock counts", "inventory.count_list", "Physical count sheets, variances, approval", STOCK),
        # Purchasing from the OEM (webapp/procurement): a group of Stock, where what it buys arrives.
        NavLink("Purchase orders", "procurement.po_list", "Orders to OEMs: draft, approve, print, send", "Purchasing"),
        NavLink("Goods receipts", "procurement.grn_list", "Receive vehicles from the dispatch list, and parts",
                "Purchasing"),
        NavLink("Purchase invoices", "procurement.pinv_list", "OEM invoices against receipts, GST input, payments",
                "Purchasing"),
        NavLink("Payables", "procurement.payable_list", "What is owed to OEMs, by age", "Purchasing"),
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
        NavLink("Staff", "master.staff_list", "Add staff, reset PINs, deactivate", "Showroom"),
        NavLink("Showroom profile", "master.branch_list", "Branches, GSTIN, invoice series", "Showroom"),
        NavLink("Audit log", "audit.log_list", "Who changed what, and when", "Showroom"),
        # communication (webapp/communication); the call list is every caller's, in "My account".
        NavLink("Outbox", "communication.outbox", "Messages queued, sent, delivered or failed; run reminders now",
                "Reminders"),
        NavLink("Reminder rules", "communication.rule_list", "Which event, how many days before, which channel",
                "Reminders"),
        NavLink("Templates", "communication.template_list", "Message texts in English, Hindi and Kannada",
                "Reminders"),
        NavLink("Channels", "communication.settings", "E-mail, SMS and WhatsApp providers; delivery report addresses",
                "Reminders"),
        # HR (webapp/hr): everyone's own month and leave is in "My account"; a reporting manager's team from there.
        NavLink("People", "hr.people", "Employment details, documents, leavers", "People"),
        NavLink("Attendance sheet", "hr.sheet", "The month per person: present, late, leave, LOP; close it", "People"),
        NavLink("HR settings", "hr.settings", "Shifts, holidays, departments, leave quotas", "People"),
        NavLink("Payroll", "payroll.runs", "The monthly salary run, register, payslips, PF / ESI files", "People"),
        NavLink("Arrears", "payroll.arrears", "Corrections of earlier months, paid by a later run", "People"),
        NavLink("Statutory rates", "payroll.rates", "PF, ESI, professional tax and income tax rates by date", "People"),
        NavLink("Incentives", "payroll.incentives", "Sales and service incentives of the month, their rules",
                "People"),
    )),
    NavSection("My account", (
        NavLink("My profile", "auth.profile", "Change your PIN, log out other devices"),
        NavLink("Call list", "communication.call_list", "Today's reminder calls; note each call's outcome"),
        NavLink("Attendance and leave", "hr.my_attendance", "Your month and leave; a reporting manager's team"),
        NavLink("My payslips", "payroll.my_payslips", "Your approved payslips as PDF"),
    )),
]


@dataclass(frozen=True)
class ShownLink:
    """A link as a page draws it: the NavLink and its URL."""
    label: str
    endpoint: str
    description: str
    url: str
    group: str = ""

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
            links = tuple(ShownLink(link.label, link.endpoint, link.description, url_for(link.endpoint), link.group)
                          for link in section.links if role_may_use(current_user.role, link.endpoint))
            if links:
                shown.append(NavSection(section.title, links))
        _shown[key] = shown
    return _shown[key]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["nav_sections"] = visible_sections
    app.jinja_env.globals["can"] = can
