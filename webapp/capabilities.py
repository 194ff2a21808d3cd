"""Who may do what, in one place.

Every act the ERP guards is a capability named here once, with the roles that hold it. Routes
declare the capability they need (``@allow("invoice.post")``, or ``@allow("sale.read",
write="sale.change")`` where a page is read by more roles than may submit it), templates ask
``can("discount.decide")`` before drawing a button, and the navigation shows a link only to the
roles its route admits. "Who may post an invoice" is ``grep -rn '"invoice.post"'``.

The independent specification of what each role may open is the hand-written table in
tests/test_access.py; this map is what the code consults.
"""
from __future__ import annotations

ROLES = ("ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS", "DEALER")

_EVERYONE = frozenset(ROLES)
_STAFF = _EVERYONE - {"DEALER"}                     # the sub-dealer sees none of the showroom's books
_MANAGERS = frozenset({"ADMIN", "MANAGER"})
_ACCOUNTANTS = _MANAGERS | {"ACCOUNTS"}
_SELLERS = _MANAGERS | {"SALES"}
_WORKSHOP = _MANAGERS | {"SERVICE_ADVISOR"}

CAPABILITIES: dict[str, frozenset[str]] = {
    # Platform: the home page, one's own session and PIN; staff, branches and the audit trail.
    "dashboard.read": _EVERYONE,
    "own.session": _EVERYONE,
    "staff.manage": frozenset({"ADMIN"}),
    "branch.manage": frozenset({"ADMIN"}),
    "audit.read": frozenset({"ADMIN"}),

    # Catalog: models, parts, labour, financiers, insurers, OEMs and their schemes.
    "catalog.read": _STAFF,
    "catalog.edit": _MANAGERS,
    "tax.edit": _ACCOUNTANTS,                       # HSN codes and their dated GST rates
    "customer.manage": _SELLERS | {"SERVICE_ADVISOR", "ACCOUNTS"},

    # Purchasing from the OEM and suppliers.
    "purchase.manage": _ACCOUNTANTS,                # orders, goods receipts, purchase invoices, payments
    "purchase.approve": _MANAGERS,                  # approve, cancel or close an order

    # Stock.
    "vehicle.read": _SELLERS | {"ACCOUNTS"},        # the vehicle list and its ageing
    "unit.read": _SELLERS | {"ACCOUNTS", "SERVICE_ADVISOR"},   # one unit's page
    "stock.manage": _MANAGERS,                      # unit status, adjustments, transfers, counts
    "stock.any_branch": frozenset({"ADMIN"}),       # others change stock at their own branch only
    "battery.fit": _WORKSHOP,
    "part.read": _WORKSHOP | {"TECHNICIAN", "ACCOUNTS"},
    "bin.edit": _WORKSHOP,
    "stock.count": _WORKSHOP | {"TECHNICIAN"},      # enter counted quantities
    "transfer.read": _STAFF,

    # Sales: enquiry to hand-over.
    "sale.read": _SELLERS | {"ACCOUNTS"},           # accounts reads every sale and step page
    "sale.change": _SELLERS,
    "sale.all_bookings": _MANAGERS | {"ACCOUNTS"},  # a salesperson sees only their own
    "salesperson.choose": _MANAGERS,
    "discount.decide": _MANAGERS,                   # discounts above the giver's limit; hand-over release
    "subsidy.register": _ACCOUNTANTS,
    "sales.settings": _MANAGERS,

    # CRM: leads (the enquiries of before), follow-ups, test rides, the funnel.
    "lead.read": _SELLERS | {"ACCOUNTS"},           # accounts reads the lead a quotation or sale came from
    "lead.change": _SELLERS,
    "lead.all": _MANAGERS | {"ACCOUNTS"},           # a salesperson sees only their own leads
    "lead.reassign": _MANAGERS,                     # choose or change the salesperson of a lead
    "lead.import": _MANAGERS,                       # the OEM portal's leads, pasted or uploaded
    "crm.report": _MANAGERS,                        # the funnel and the lost-reason analysis
    "lost_reason.manage": _MANAGERS,                # the list of reasons a lead is lost for

    # Billing.
    "payment.take": _SELLERS | {"ACCOUNTS"},
    "invoice.post": _ACCOUNTANTS,                   # vehicle invoices, credit notes, refunds
    "invoice.read_vehicle": _ACCOUNTANTS,           # others at the counter see counter invoices only
    "counter_sale.post": _ACCOUNTANTS | {"SERVICE_ADVISOR"},
    "books.read": _ACCOUNTANTS,                     # registers and receivables

    # Insurance.
    "policy.manage": _SELLERS | {"ACCOUNTS"},

    # Workshop: arrivals, job cards, the board, service invoices and the gate pass.
    "workshop.read": _WORKSHOP | {"TECHNICIAN", "ACCOUNTS"},   # the board, job cards, a vehicle's history
    "jobcard.manage": _WORKSHOP,                    # arrival, job card, estimate and its approval
    "jobcard.work": _WORKSHOP | {"TECHNICIAN"},     # battery readings, checklist, moving a card on the board
    "workshop.override": _MANAGERS,                 # an odometer below the last reading; release on credit
    "service_invoice.post": _WORKSHOP | {"ACCOUNTS"},   # never TECHNICIAN: technicians do not price
    "estimate.read": _WORKSHOP | {"ACCOUNTS"},      # a job card's prices: never TECHNICIAN
    "parts_request.manage": _ACCOUNTANTS | {"SERVICE_ADVISOR"},   # purchasing and the counter: parts for job cards

    # Warranty to the OEM: coverage, extended plans, recall campaigns and claims.
    "warranty.read": _WORKSHOP | {"ACCOUNTS"},
    "warranty.claim": _WORKSHOP | {"ACCOUNTS"},     # raise and submit claims, record the OEM's decision
    "warranty.settle": _ACCOUNTANTS,                # the amount the OEM credited for a claim
    "warranty.settings": _MANAGERS,                 # extended warranty plans, reading limits, pack rules
    "campaign.manage": _WORKSHOP,                   # recall / service campaigns from the OEM

    # Communication: reminder rules, templates, channels; the outbox; the call list; the staff bell.
    "reminder.settings": frozenset({"ADMIN"}),      # rules, templates, providers, a run from the screen
    "outbox.read": _MANAGERS,
    "call_list.work": _SELLERS | {"SERVICE_ADVISOR"},
    "notification.read": _STAFF,

    # Finance: the books, the period lock, GST returns and the Tally export.
    "ledger.read": _ACCOUNTANTS,                    # day book, cash and bank books, ledgers, trial balance, P&L
    "voucher.post": frozenset({"ADMIN", "ACCOUNTS"}),   # manual journals, expenses, bank reconciliation
    "accounts.setup": frozenset({"ADMIN", "ACCOUNTS"}), # chart of accounts, bank accounts, statement layouts
    "cash.close": _ACCOUNTANTS,                     # the daily cash closing by denomination
    "month.close": frozenset({"ADMIN", "ACCOUNTS"}),
    "month.reopen": _MANAGERS,                      # with a reason, audited
    "gst.returns": _ACCOUNTANTS,                    # GSTR-1, GSTR-3B and their reconciliation
    "gst.parameters": frozenset({"ADMIN", "ACCOUNTS"}),  # add a dated return parameter (B2CL limit, HSN digits, UQC...)
    "tally.export": frozenset({"ADMIN", "ACCOUNTS"}),
    # HR (webapp/hr): people, attendance by PIN at the terminal, leave, the monthly attendance sheet.
    "attendance.own": _STAFF,                       # one's own attendance, leave balances and applications
    "leave.decide": _STAFF,                         # a reporting manager's team (the database checks who)
    "hr.people": _MANAGERS,                         # employment details, documents, leavers
    "hr.settings": _MANAGERS,                       # shifts, holidays, departments, leave quotas
    "terminal.manage": _MANAGERS,                   # enable a browser as the punching terminal
    "attendance.correct": _MANAGERS,                # a correction punch for anyone of the branch
    "attendance.regularise": _STAFF,                # a correction punch for one's reports (the database checks who)
    "attendance.sheet": _ACCOUNTANTS,               # the monthly sheet, PDF and XLSX
    "attendance.close": frozenset({"ADMIN", "ACCOUNTS"}),   # closing a month: permanent, payroll reads it
    # Payroll (webapp/payroll): salary figures are seen by accounts and the administrator, who run the month,
    # and by the managers who approve it; everyone else sees their own payslips only.
    "payslip.own": _STAFF,                          # one's own approved payslips
    "payroll.run": frozenset({"ADMIN", "ACCOUNTS"}),  # structures, the run, its register and statutory files
    "payroll.review": _ACCOUNTANTS,                 # the runs and the register, read to approve
    "payroll.approve": _MANAGERS,                   # approve a checked run: permanent, its voucher posted
    "payroll.rates": _ACCOUNTANTS,                  # the dated PF, ESI, PT and income tax rates, read
    "payroll.rates_edit": frozenset({"ADMIN", "ACCOUNTS"}),   # a new dated row set (a used one is permanent)
    # Incentives (webapp/payroll/incentives.py): accounts keep the rules and compute a month; managers read them
    # and adjust a person's month with a reason.
    "incentive.read": _ACCOUNTANTS,                 # the rules, a month's incentives and their documents
    "incentive.rules": frozenset({"ADMIN", "ACCOUNTS"}),  # enter and end rules; compute a month from its documents
    "incentive.adjust": _MANAGERS,                  # a person's month adjusted, with a reason
}


def roles_for(capability: str) -> frozenset[str]:
    try:
        return CAPABILITIES[capability]
    except KeyError:
        raise KeyError(f"no capability is named {capability!r} in webapp/capabilities.py") from None


def role_can(role: str | None, capability: str) -> bool:
    return role in roles_for(capability)
