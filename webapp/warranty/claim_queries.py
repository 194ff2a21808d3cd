"""Reading and writing warranty claims to the OEM; functions take the request's connection first and
never commit. The rules (numbers, moves, prices, what is fixed once submitted, the pack swap) are
PostgreSQL's (sql/0029_warranty_claims.sql, the last section of sql/functions/92_warranty.sql)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

KINDS = {"WARRANTY_REPAIR": "Warranty repair", "BATTERY": "Battery (pack)",
         "FREE_SERVICE_LABOUR": "Free-service labour", "RECALL": "Recall labour"}
# Which job-card lines a claim of each kind takes when it is raised.
KIND_COVERAGE = {"WARRANTY_REPAIR": "WARRANTY", "BATTERY": "WARRANTY", "FREE_SERVICE_LABOUR": "FREE_SERVICE",
                 "RECALL": "RECALL"}
PENDING_AMOUNT = "CASE WHEN c.status IN ('APPROVED', 'PARTLY_APPROVED') THEN c.approved_amount ELSE c.claimed_amount END"

# --------------------------------------------------------------------------- the job card a claim is raised from


def job_card(conn: Connection, job_card_id: int):
    """The job card (this branch's: another branch's is no row) with its vehicle and OEM."""
    return conn.execute(sa.text("""
        SELECT j.job_card_id, j.job_card_no, j.branch_id, j.state, j.service_type, j.free_service_no, j.odometer_km,
               j.complaints, j.vehicle_id, v.vin, v.unit_id, v.registration_no, v.sale_date, m.oem_id,
               o.brand AS oem_name, m.name AS model_name, x.name AS variant_name, x.variant_id, m.model_id,
               v.mfg_month
          FROM service.job_card j
          JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
          JOIN oem.variant x ON x.variant_id = v.variant_id
          JOIN oem.model m ON m.model_id = x.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE j.job_card_id = :j"""), {"j": job_card_id}).mappings().first()


def fitted_packs(conn: Connection, vehicle_id: int) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT pack_id, serial FROM service.vehicle_pack WHERE vehicle_id = :v AND removed_on IS NULL
         ORDER BY serial"""), {"v": vehicle_id})]


def pack_parts(conn: Connection) -> list[tuple[int, str]]:
    """Battery packs as spare parts (HSN 8507...): what a swapped pack is claimed at."""
    return [(r.part_id, f"{r.part_no} · {r.name}") for r in conn.execute(sa.text("""
        SELECT part_id, part_no, name FROM master.part WHERE is_active AND hsn_code LIKE '8507%' ORDER BY part_no"""))]


def parts(conn: Connection) -> list[tuple[int, str]]:
    return [(r.part_id, f"{r.part_no} · {r.name}") for r in conn.execute(sa.text(
        "SELECT part_id, part_no, name FROM master.part WHERE is_active ORDER BY part_no"))]




def card_campaigns(conn: Connection, vin: str, model_id: int, mfg_month: date | None, on: date,
                   oem_id: int) -> list[tuple[int, str]]:
    """The recall / service campaigns of the vehicle's OEM it matches: done on it, or open for it."""
    return [(r.campaign_id, f"{r.code} · {r.title}") for r in conn.execute(sa.text("""
        SELECT c.campaign_id, c.code, c.title FROM warranty.campaign c
         WHERE c.oem_id = :o AND (EXISTS (SELECT 1 FROM warranty.campaign_done d WHERE d.campaign_id = c.campaign_id
                                                                                  AND d.vin = :vin)
                                  OR c.campaign_id IN (SELECT campaign_id FROM warranty.open_campaigns(:vin, :m, :mfg, :on)))
         ORDER BY c.opened_on DESC, c.code"""), {"o": oem_id, "vin": vin, "m": model_id, "mfg": mfg_month, "on": on})]


def card_open_campaigns(conn: Connection, job_card_id: int):
    """The campaigns open on the day the card was opened that cover its vehicle and are not done on it,
    each with the line (not declined, on a card not cancelled) of the vehicle's job cards that does it,
    if any (one statement)."""
    return conn.execute(sa.text("""
        SELECT c.campaign_id, c.code, c.title, c.kind, c.operation_code, l.job_line_id, l.job_card_no,
               l.job_card_id = j.job_card_id AS on_this_card
          FROM service.job_card j
          JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
          JOIN oem.variant va ON va.variant_id = v.variant_id
         CROSS JOIN LATERAL warranty.open_campaigns(v.vin, va.model_id, v.mfg_month,
                                                    (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date) c
          LEFT JOIN LATERAL (
                SELECT l.job_line_id, k.job_card_id, k.job_card_no FROM service.job_line l
                  JOIN service.job_card k ON k.job_card_id = l.job_card_id
                 WHERE l.campaign_id = c.campaign_id AND k.vehicle_id = j.vehicle_id AND l.status <> 'DECLINED'
                   AND k.state <> 'CANCELLED'
                 ORDER BY l.job_line_id LIMIT 1) l ON true
         WHERE j.job_card_id = :j"""), {"j": job_card_id}).mappings().all()


def add_campaign_line(conn: Connection, job_card_id: int, campaign_id: int) -> int:
    return conn.execute(sa.text("SELECT warranty.add_campaign_line(:j, :c)"),
                        {"j": job_card_id, "c": campaign_id}).scalar_one()


def card_claims(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT c.claim_id, c.claim_no, c.kind, c.status, s.label AS status_label, c.claimed_amount, c.settled_amount
          FROM warranty.claim c JOIN warranty.claim_status s ON s.status = c.status
         WHERE c.job_card_id = :j ORDER BY c.claim_id"""), {"j": job_card_id}).mappings().all()


def vehicle_claims(conn: Connection, vehicle_id: int):
    """The vehicle's claims (this branch's), newest first, for its service history."""
    return conn.execute(sa.text("""
        SELECT c.claim_id, c.claim_no, c.raised_on, c.kind, c.status, s.label AS status_label, c.oem_claim_ref,
               c.claimed_amount, c.approved_amount, c.settled_amount, j.job_card_no
          FROM warranty.claim c
          JOIN warranty.claim_status s ON s.status = c.status
          LEFT JOIN service.job_card j ON j.job_card_id = c.job_card_id
         WHERE c.vehicle_id = :v ORDER BY c.raised_on DESC, c.claim_id DESC"""), {"v": vehicle_id}).mappings().all()


def insert_claim(conn: Connection, *, branch_id: int, job_card_id: int, kind: str, campaign_id: int | None,
                 complaint: str, cause: str | None, correction: str | None, key: str) -> int:
    """The claim, with the card's covered lines of its kind not claimed yet (labour for a free service)."""
    claim_id = conn.execute(sa.text("""
        INSERT INTO warranty.claim (branch_id, kind, job_card_id, vehicle_id, campaign_id, complaint, cause, correction,
                                    idempotency_key)
        SELECT :b, :kind, j.job_card_id, j.vehicle_id, :campaign, :complaint, :cause, :correction, :key
          FROM service.job_card j WHERE j.job_card_id = :j
        RETURNING claim_id"""), {"b": branch_id, "kind": kind, "j": job_card_id, "campaign": campaign_id,
                                 "complaint": complaint, "cause": cause, "correction": correction,
                                 "key": key}).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_line (claim_id, kind, job_line_id, operation_code, part_id, qty, unit_price,
                                         description)
        SELECT :c, CASE WHEN l.operation_code IS NOT NULL THEN 'LABOUR' ELSE 'PART' END, l.job_line_id,
               l.operation_code, l.part_id, CASE WHEN l.part_id IS NOT NULL THEN l.qty END,
               CASE WHEN l.part_id IS NOT NULL THEN 0 END, l.description
          FROM service.job_line l
         WHERE l.job_card_id = :j AND l.coverage = :coverage AND l.status IN ('APPROVED', 'DONE')
           AND (:kind <> 'FREE_SERVICE_LABOUR' OR l.operation_code IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM warranty.claim_line x WHERE x.job_line_id = l.job_line_id)
         ORDER BY l.job_line_id"""), {"c": claim_id, "j": job_card_id, "coverage": KIND_COVERAGE[kind], "kind": kind})
    return claim_id


def campaign(conn: Connection, campaign_id: int):
    return conn.execute(sa.text("""
        SELECT c.campaign_id, c.code, c.title, c.kind, c.operation_code, c.opened_on, c.closed_on, o.brand AS oem_name,
               lo.name AS operation_name
          FROM warranty.campaign c JOIN oem.oem o ON o.oem_id = c.oem_id
          LEFT JOIN master.labour_operation lo ON lo.operation_code = c.operation_code
         WHERE c.campaign_id = :c"""), {"c": campaign_id}).mappings().first()


def insert_recall_claim(conn: Connection, *, branch_id: int, campaign_id: int, vin: str, complaint: str,
                        correction: str | None, key: str) -> int | None:
    """A recall claimed from its campaign for a vehicle the workshop knows (no job card), with the
    campaign's labour operation as its line; None when the workshop does not know the VIN."""
    claim_id = conn.execute(sa.text("""
        INSERT INTO warranty.claim (branch_id, kind, vehicle_id, campaign_id, complaint, correction, idempotency_key)
        SELECT :b, 'RECALL', v.vehicle_id, :c, :complaint, :correction, :key FROM service.vehicle v WHERE v.vin = :vin
        RETURNING claim_id"""), {"b": branch_id, "c": campaign_id, "vin": vin, "complaint": complaint,
                                 "correction": correction, "key": key}).scalar()
    if claim_id is not None:
        conn.execute(sa.text("""
            INSERT INTO warranty.claim_line (claim_id, kind, operation_code, description)
            SELECT :claim, 'LABOUR', c.operation_code, '' FROM warranty.campaign c
             WHERE c.campaign_id = :c AND c.operation_code IS NOT NULL"""), {"claim": claim_id, "c": campaign_id})
    return claim_id


def swap_pack(conn: Connection, *, job_card_id: int, old_pack_id: int, new_serial: str, part_id: int, on: date,
              key: str) -> int:
    return conn.execute(sa.text("SELECT warranty.swap_pack(:j, :old, :new, :part, :on, :key)"),
                        {"j": job_card_id, "old": old_pack_id, "new": new_serial, "part": part_id, "on": on,
                         "key": key}).scalar_one()


# --------------------------------------------------------------------------- one claim


def claim(conn: Connection, claim_id: int):
    """The claim (this branch's) with what the OEM's portal asks: dealer code, VIN, model, sale date,
    odometer, pack serial, the job card, the campaign."""
    return conn.execute(sa.text("""
        SELECT c.*, s.label AS status_label, j.job_card_no, j.service_type, j.complaints AS card_complaints,
               v.registration_no, v.sale_date, v.motor_no, v.unit_id, o.brand AS oem_name, o.legal_name AS oem_legal_name,
               o.dealer_code, m.name AS model_name, x.name AS variant_name, x.battery_min_soh_pct, p.serial AS pack_serial,
               g.code AS campaign_code, g.title AS campaign_title, cu.name AS customer_name, st.name AS created_by_name
          FROM warranty.claim c
          JOIN warranty.claim_status s ON s.status = c.status
          JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id
          JOIN oem.variant x ON x.variant_id = v.variant_id
          JOIN oem.model m ON m.model_id = x.model_id
          JOIN oem.oem o ON o.oem_id = c.oem_id
          JOIN master.customer cu ON cu.customer_id = v.customer_id
          LEFT JOIN service.job_card j ON j.job_card_id = c.job_card_id
          LEFT JOIN inventory.battery_pack p ON p.pack_id = c.pack_id
          LEFT JOIN warranty.campaign g ON g.campaign_id = c.campaign_id
          LEFT JOIN master.staff st ON st.staff_id = c.created_by
         WHERE c.claim_id = :c"""), {"c": claim_id}).mappings().first()


def claim_lines(conn: Connection, claim_id: int):
    return conn.execute(sa.text("""
        SELECT l.*, p.part_no FROM warranty.claim_line l LEFT JOIN master.part p ON p.part_id = l.part_id
         WHERE l.claim_id = :c ORDER BY l.kind DESC, l.line_id"""), {"c": claim_id}).mappings().all()


def claim_history(conn: Connection, claim_id: int):
    return conn.execute(sa.text("""
        SELECT h.changed_at, h.from_status, h.to_status, s.label AS to_label, st.name AS changed_by_name
          FROM warranty.claim_status_change h
          JOIN warranty.claim_status s ON s.status = h.to_status
          LEFT JOIN master.staff st ON st.staff_id = h.changed_by
         WHERE h.claim_id = :c ORDER BY h.change_id"""), {"c": claim_id}).mappings().all()


def evidence(conn: Connection, claim_id: int, vehicle_id: int):
    """Every battery reading of the vehicle's packs and photo of its job cards (this branch's), each
    marked chosen when it is on the claim; readings oldest first (the SoH trend)."""
    return conn.execute(sa.text("""
        SELECT 'reading' AS what, r.reading_id AS id, r.read_at AS at, r.pack_id, p.serial, r.soh_pct, r.soc_pct,
               r.cycle_count, r.cell_delta_mv, r.pack_temp_max_c, r.insulation_mohm, r.fault_codes, r.flags,
               j.job_card_no, j.odometer_km, NULL::text AS caption,
               EXISTS (SELECT 1 FROM warranty.claim_evidence e WHERE e.claim_id = :c AND e.reading_id = r.reading_id) AS chosen
          FROM service.battery_reading r
          JOIN service.job_card j ON j.job_card_id = r.job_card_id
          JOIN inventory.battery_pack p ON p.pack_id = r.pack_id
         WHERE j.vehicle_id = :v
        UNION ALL
        SELECT 'photo', f.photo_id, f.taken_at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               j.job_card_no, j.odometer_km, f.caption,
               EXISTS (SELECT 1 FROM warranty.claim_evidence e WHERE e.claim_id = :c AND e.photo_id = f.photo_id)
          FROM service.job_photo f
          JOIN service.job_card j ON j.job_card_id = f.job_card_id
         WHERE j.vehicle_id = :v
         ORDER BY 1 DESC, 3, 2"""), {"c": claim_id, "v": vehicle_id}).mappings().all()


def photo_thumbnails(conn: Connection, claim_id: int) -> dict[int, bytes]:
    """The chosen photos' thumbnails, for the printed claim."""
    return {r.photo_id: bytes(r.thumbnail) for r in conn.execute(sa.text("""
        SELECT f.photo_id, f.thumbnail FROM warranty.claim_evidence e JOIN service.job_photo f USING (photo_id)
         WHERE e.claim_id = :c ORDER BY f.taken_at"""), {"c": claim_id})}


def update_claim_words(conn: Connection, claim_id: int, *, complaint: str, cause: str | None,
                       correction: str | None) -> None:
    conn.execute(sa.text("""UPDATE warranty.claim SET complaint = :complaint, cause = :cause, correction = :correction
                             WHERE claim_id = :c"""),
                 {"complaint": complaint, "cause": cause, "correction": correction, "c": claim_id})


def set_evidence(conn: Connection, claim_id: int, reading_ids: list[int], photo_ids: list[int]) -> None:
    """The claim's evidence is exactly these readings and photos."""
    conn.execute(sa.text("""
        DELETE FROM warranty.claim_evidence
         WHERE claim_id = :c AND NOT (coalesce(reading_id = ANY (:r), false) OR coalesce(photo_id = ANY (:p), false))"""),
        {"c": claim_id, "r": reading_ids, "p": photo_ids})
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_evidence (claim_id, reading_id)
        SELECT :c, unnest(CAST(:r AS integer[])) ON CONFLICT DO NOTHING"""), {"c": claim_id, "r": reading_ids})
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_evidence (claim_id, photo_id)
        SELECT :c, unnest(CAST(:p AS integer[])) ON CONFLICT DO NOTHING"""), {"c": claim_id, "p": photo_ids})


def add_line(conn: Connection, claim_id: int, data: dict) -> int:
    labour = data["kind"] == "LABOUR"
    return conn.execute(sa.text("""
        INSERT INTO warranty.claim_line (claim_id, kind, operation_code, part_id, qty, unit_price, description,
                                         failed_serial, replacement_serial)
        VALUES (:c, :kind, :op, :part, :qty, :price, :description, :failed, :replacement) RETURNING line_id"""),
        {"c": claim_id, "kind": data["kind"], "op": data["operation_code"] if labour else None,
         "part": None if labour else data["part_id"], "qty": None if labour else data["qty"],
         "price": None if labour else 0, "description": data.get("description") or "",
         "failed": None if labour else data.get("failed_serial"),
         "replacement": None if labour else data.get("replacement_serial")}).scalar_one()


def delete_line(conn: Connection, claim_id: int, line_id: int) -> int:
    return conn.execute(sa.text("DELETE FROM warranty.claim_line WHERE claim_id = :c AND line_id = :l"),
                        {"c": claim_id, "l": line_id}).rowcount


def move_claim(conn: Connection, claim_id: int, from_status: str, data: dict) -> bool:
    """Move the claim on if it is still in ``from_status`` (a form drawn before another move changes
    nothing); the database refuses a move not allowed. True when moved."""
    sets = ", ".join(f"{k} = :{k}" for k in data)
    return conn.execute(sa.text(f"UPDATE warranty.claim SET {sets} WHERE claim_id = :claim_id AND status = :from_status"),
                        {**data, "claim_id": claim_id, "from_status": from_status}).rowcount == 1


# --------------------------------------------------------------------------- the register and the parts held


def register(conn: Connection, *, status: str, oem_id: int | None, today: date, limit: int = 200):
    """The branch's claims, newest first: 'pending' (submitted, approved, partly approved), 'draft',
    'closed' (rejected, settled) or 'all'; with days since submission."""
    where = {"pending": "s.is_pending", "draft": "c.status = 'DRAFT'",
             "closed": "c.status IN ('REJECTED', 'SETTLED')", "all": "true"}[status]
    return conn.execute(sa.text(f"""
        SELECT c.claim_id, c.claim_no, c.raised_on, c.kind, c.status, s.label AS status_label, c.vin, c.oem_claim_ref,
               c.submitted_on, c.claimed_amount, c.approved_amount, c.settled_amount, o.brand AS oem_name,
               j.job_card_no, v.registration_no,
               CASE WHEN s.is_pending THEN CAST(:today AS date) - c.submitted_on END AS age_days,
               CASE WHEN s.is_pending THEN {PENDING_AMOUNT} END AS pending_amount
          FROM warranty.claim c
          JOIN warranty.claim_status s ON s.status = c.status
          JOIN oem.oem o ON o.oem_id = c.oem_id
          JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id
          LEFT JOIN service.job_card j ON j.job_card_id = c.job_card_id
         WHERE {where} AND (CAST(:oem AS integer) IS NULL OR c.oem_id = :oem)
         ORDER BY c.raised_on DESC, c.claim_id DESC LIMIT :limit"""),
        {"oem": oem_id, "limit": limit, "today": today}).mappings().all()


def ageing(conn: Connection, today: date):
    """Per OEM, the amount pending (approved amount once decided, else the claim) by days since the
    claim was submitted: 0-30, 31-60, 61-90, over 90."""
    return conn.execute(sa.text(f"""
        SELECT o.oem_id, o.brand AS oem_name, count(*) AS claims,
               coalesce(sum({PENDING_AMOUNT}) FILTER (WHERE :today - c.submitted_on <= 30), 0) AS d0_30,
               coalesce(sum({PENDING_AMOUNT}) FILTER (WHERE :today - c.submitted_on BETWEEN 31 AND 60), 0) AS d31_60,
               coalesce(sum({PENDING_AMOUNT}) FILTER (WHERE :today - c.submitted_on BETWEEN 61 AND 90), 0) AS d61_90,
               coalesce(sum({PENDING_AMOUNT}) FILTER (WHERE :today - c.submitted_on > 90), 0) AS d90_plus,
               sum({PENDING_AMOUNT}) AS total
          FROM warranty.claim c
          JOIN warranty.claim_status s ON s.status = c.status AND s.is_pending
          JOIN oem.oem o ON o.oem_id = c.oem_id
         GROUP BY o.oem_id, o.brand ORDER BY o.brand"""), {"today": today}).mappings().all()


def claim_oems(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT o.oem_id, o.brand FROM oem.oem o WHERE EXISTS (SELECT 1 FROM warranty.claim c WHERE c.oem_id = o.oem_id)
         ORDER BY o.brand"""))]


def returnable_parts(conn: Connection, *, held: bool, limit: int = 300):
    """Failed parts tagged on the branch's claims (not rejected ones' drafts): held for the OEM, or returned."""
    return conn.execute(sa.text(f"""
        SELECT l.line_id, l.description, l.failed_serial, l.replacement_serial, l.returned_on, l.return_ref, l.amount,
               p.part_no, c.claim_id, c.claim_no, c.status, s.label AS status_label, c.vin, c.raised_on,
               o.brand AS oem_name
          FROM warranty.claim_line l
          JOIN warranty.claim c ON c.claim_id = l.claim_id
          JOIN warranty.claim_status s ON s.status = c.status
          JOIN oem.oem o ON o.oem_id = c.oem_id
          LEFT JOIN master.part p ON p.part_id = l.part_id
         WHERE l.failed_serial IS NOT NULL AND l.returned_on IS {'NULL' if held else 'NOT NULL'}
         ORDER BY c.raised_on, l.line_id LIMIT :limit"""), {"limit": limit}).mappings().all()


def claim_line(conn: Connection, line_id: int):
    """A line of one of the branch's claims (another branch's is no row)."""
    return conn.execute(sa.text("""
        SELECT l.*, c.claim_no, c.status, c.raised_on, c.vin, o.brand AS oem_name
          FROM warranty.claim_line l JOIN warranty.claim c ON c.claim_id = l.claim_id
          JOIN oem.oem o ON o.oem_id = c.oem_id
         WHERE l.line_id = :l"""), {"l": line_id}).mappings().first()


def mark_returned(conn: Connection, line_id: int, returned_on: date, return_ref: str) -> int:
    return conn.execute(sa.text("""UPDATE warranty.claim_line SET returned_on = :d, return_ref = :r
                                    WHERE line_id = :l AND returned_on IS NULL
                                      AND claim_id IN (SELECT claim_id FROM warranty.claim)"""),
                        {"d": returned_on, "r": return_ref, "l": line_id}).rowcount


# --------------------------------------------------------------------------- the OEMs' labour rates


def labour_rates(conn: Connection):
    return conn.execute(sa.text("""
        SELECT r.*, o.brand AS oem_name FROM warranty.labour_rate r JOIN oem.oem o ON o.oem_id = r.oem_id
         ORDER BY o.brand, r.effective_from DESC"""), {}).mappings().all()


def oem_choices(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text("SELECT oem_id, brand FROM oem.oem WHERE is_active ORDER BY brand"))]


def add_labour_rate(conn: Connection, *, oem_id: int, rate_per_hour, effective_from: date) -> int:
    """A new rate from the day, ending the OEM's rate in force before it (the day before)."""
    conn.execute(sa.text("""
        UPDATE warranty.labour_rate SET effective_to = CAST(:d AS date) - 1
         WHERE oem_id = :o AND effective_from < :d AND (effective_to IS NULL OR effective_to >= :d)"""),
        {"o": oem_id, "d": effective_from})
    return conn.execute(sa.text("""
        INSERT INTO warranty.labour_rate (oem_id, rate_per_hour, effective_from) VALUES (:o, :r, :d)
        RETURNING rate_id"""), {"o": oem_id, "r": rate_per_hour, "d": effective_from}).scalar_one()
