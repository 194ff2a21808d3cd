"""A vehicle's page: its facts, packs, the state of health of each pack over its job cards drawn
as a small chart (the evidence a battery warranty claim needs), other modules' panels, and the
service history as one timeline (job cards, readings, pack fitments, warranty claims to the OEM).

Who: everyone in the workshop and accounts (workshop.read)."""
from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from flask import render_template, url_for

from .. import panels
from ..billing import api as billing
from ..db import get_conn
from ..formatting import IST, ddmmyyyy, inr, plain_number, today_ist
from ..pages import found_or_404
from ..security import allow, can, may_open
from ..warranty import api as warranty
from . import bp, queries
from .forms import SERVICE_TYPE_LABELS
from .subject import vehicle_subject

CHART_W, CHART_H, PAD_L, PAD_R, PAD_T, PAD_B = 320, 140, 34, 10, 10, 22
FLAG_LABELS = {"CELL_DELTA": "Cell imbalance", "TEMPERATURE": "Hot pack", "INSULATION": "Low insulation",
               "SOH": "SoH below floor", "BMS_FAULT": "BMS fault", "CHARGER": "Charger fault"}


def soh_chart(readings: list, floor: Decimal | None) -> dict:
    """One pack's SoH readings (oldest first) as an SVG chart's coordinates: a point per reading,
    evenly spaced (one per job card), the warranty floor as a line, the y axis from a little below
    the lowest value to 100 %."""
    values = [Decimal(r["soh_pct"]) for r in readings]
    low = min(values + ([floor] if floor is not None else []))
    bottom = max(Decimal(0), (low - 5) // 5 * 5)
    span = Decimal(100) - bottom or Decimal(1)
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def y(value: Decimal) -> float:
        return round(PAD_T + float((Decimal(100) - value) / span) * inner_h, 1)

    step = inner_w / max(len(readings) - 1, 1)
    points = [{"x": round(PAD_L + (i * step if len(readings) > 1 else inner_w / 2), 1), "y": y(v),
               "label": f"{ddmmyyyy(r['read_at'])}: SoH {plain_number(v)} %" + (f", job card {r['job_card_no']}" if r["job_card_no"] else ""),
               "flagged": "SOH" in (r["flags"] or [])}
              for i, (r, v) in enumerate(zip(readings, values))]
    ticks = [{"y": y(t), "label": plain_number(t)} for t in (Decimal(100), bottom + span / 2, bottom)]
    return {"w": CHART_W, "h": CHART_H, "left": PAD_L, "right": CHART_W - PAD_R, "bottom_y": CHART_H - PAD_B,
            "points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in points), "ticks": ticks,
            "floor": {"y": y(floor), "label": f"{plain_number(floor)} %"} if floor is not None and floor >= bottom else None,
            "first": ddmmyyyy(readings[0]["read_at"]), "last": ddmmyyyy(readings[-1]["read_at"])}


def pack_trends(trend_rows, floor) -> list[dict]:
    """The readings grouped by pack, each with its chart."""
    by_pack: dict[int, dict] = {}
    for r in trend_rows:
        by_pack.setdefault(r["pack_id"], {"pack_id": r["pack_id"], "serial": r["serial"], "readings": []})
        by_pack[r["pack_id"]]["readings"].append(r)
    for pack in by_pack.values():
        pack["chart"] = soh_chart(pack["readings"], floor)
        pack["latest"] = pack["readings"][-1]
    return list(by_pack.values())


def _at(day) -> datetime:
    return datetime.combine(day, time(), IST)


def claim_event(c, may_open_claim: bool) -> dict:
    """A warranty claim in the history: number, kind, status and the amounts claimed / approved /
    settled; a link to the claim's page for a user who may open it."""
    amounts = [f"claimed {inr(c['claimed_amount'])}"]
    if c["approved_amount"] is not None and c["status"] != "SETTLED":
        amounts.append(f"approved {inr(c['approved_amount'])}")
    if c["settled_amount"] is not None:
        amounts.append(f"settled {inr(c['settled_amount'])}")
    detail = [f"OEM ref {c['oem_claim_ref']}"] if c["oem_claim_ref"] else []
    detail += [f"from job card {c['job_card_no']}"] if c["job_card_no"] else []
    # Raised on the day, after that day's job card and readings (the claim keeps only its date).
    return {"at": datetime.combine(c["raised_on"], time(23, 59), IST), "kind": "Warranty claim", "job_card_id": None,
            "what": f"{c['claim_no']} · {c['kind_label']} · {c['status_label']} · {', '.join(amounts)}",
            "detail": " · ".join(detail) or None,
            "href": url_for("warranty.claim_detail", claim_id=c["claim_id"]) if may_open_claim else None}


def timeline(job_cards, trend_rows, packs, bills: dict | None = None, claims=(), may_open_claim: bool = False) -> list[dict]:
    """Every job card (with its invoice or job sheet and gate pass), reading, pack fitment and warranty
    claim, newest first."""
    events = [claim_event(c, may_open_claim) for c in claims]
    bills = bills or {}
    for j in job_cards:
        kind = SERVICE_TYPE_LABELS.get(j["service_type"], j["service_type"])
        if j["free_service_no"]:
            kind = f"{kind} {j['free_service_no']}"
        bill = bills.get(j.get("invoice_id"))
        out = [f"{'Invoice' if bill['kind'] == 'SERVICE' else 'Job sheet'} {bill['invoice_no']}"] if bill else []
        out += [f"Gate pass {j['gate_pass_no']}"] if j.get("gate_pass_no") else []
        events.append({"at": j["opened_at"], "kind": "Job card", "job_card_id": j["job_card_id"],
                       "href": url_for("service.job_card_detail", job_card_id=j["job_card_id"]),
                       "what": f"{j['job_card_no']} · {kind} · {j['odometer_km']:,} km · {j['state_label']}",
                       "detail": " · ".join([j["complaints"], *out])})
    for r in trend_rows:
        flags = ", ".join(FLAG_LABELS.get(f, f) for f in r["flags"] or [])
        events.append({"at": r["read_at"], "kind": "Battery reading", "job_card_id": r["job_card_id"],
                       "what": f"Pack {r['serial']}: SoH {plain_number(r['soh_pct'])} %, "
                               f"SoC {plain_number(r['soc_pct'])} %, cell delta {plain_number(r['cell_delta_mv'])} mV",
                       "detail": flags or None,
                       "flagged": bool(flags)})
    for p in packs:
        events.append({"at": _at(p["fitted_on"]), "kind": "Pack fitted", "job_card_id": None,
                       "what": f"Pack {p['serial']}", "detail": p["reason"]})
        if p["removed_on"]:
            events.append({"at": _at(p["removed_on"]), "kind": "Pack removed", "job_card_id": None,
                           "what": f"Pack {p['serial']}", "detail": None})
    return sorted(events, key=lambda e: e["at"], reverse=True)


@bp.get("/vehicles/<int:vehicle_id>")
@allow("workshop.read")
def vehicle_detail(vehicle_id: int):
    conn = get_conn()
    vehicle = found_or_404(queries.get_vehicle(conn, vehicle_id))
    packs = queries.vehicle_packs(conn, vehicle_id)
    trend_rows = queries.pack_trends(conn, vehicle_id)
    floor = vehicle["battery_min_soh_pct"]
    if floor is None:
        floor = queries.reading_limits(conn, today_ist()).get("SOH_MIN_PCT")
    job_cards = queries.vehicle_job_cards(conn, vehicle_id)
    return render_template(
        "service/vehicle_detail.html", vehicle=vehicle, packs=packs, trends=pack_trends(trend_rows, floor),
        floor=floor, events=timeline(job_cards, trend_rows, packs,
                                     billing.service_invoice_numbers(conn, [j["invoice_id"] for j in job_cards]),
                                     warranty.vehicle_claims(conn, vehicle_id), can("warranty.read")),
        flag_labels=FLAG_LABELS,
        panels=panels.draw("service_vehicle", conn, vehicle_subject(vehicle, packs)),
        may_open_card=may_open("service.job_card_new") and vehicle["open_job_card_id"] is None)
