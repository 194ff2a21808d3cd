"""Reading and writing the workshop's tables (sql/0023_service.sql, sql/0026_service_readings.sql).
Functions take the request's connection first and never commit. The database numbers job cards,
keeps one open card per vehicle, holds the odometer floor, the allowed moves, the physical ranges
of a battery reading and its flags."""
from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

OPEN = "state NOT IN ('DELIVERED', 'CANCELLED')"

# A vehicle with its variant, model, OEM, owner, the open job card this branch can see, its last
# battery reading (any branch's: readings are the vehicle's evidence, not a branch's document) and the
# free services it has used at any branch (service.free_services_used: the facts, not the cards).
VEHICLE_SQL = f"""
    SELECT v.*, va.name AS variant_name, va.model_id, m.name AS model_name, o.brand AS oem_name,
           va.battery_min_soh_pct, c.name AS owner_name, c.mobile AS owner_mobile,
           oc.job_card_id AS open_job_card_id, oc.job_card_no AS open_job_card_no, oc.state AS open_state,
           oc.label AS open_state_label,
           br.soh_pct AS last_soh_pct, br.soc_pct AS last_soc_pct, br.read_at AS last_read_at,
           br.flags AS last_flags, br.serial AS last_reading_serial,
           ARRAY(SELECT u.free_service_no FROM service.free_services_used(v.vehicle_id) u
                  ORDER BY 1) AS used_free_services
      FROM service.vehicle v
      JOIN oem.variant va ON va.variant_id = v.variant_id
      JOIN oem.model m ON m.model_id = va.model_id
      JOIN oem.oem o ON o.oem_id = m.oem_id
      JOIN master.customer c ON c.customer_id = v.customer_id
      LEFT JOIN LATERAL (SELECT j.job_card_id, j.job_card_no, j.state, s.label
                           FROM service.job_card j JOIN service.job_state s ON s.state = j.state
                          WHERE j.vehicle_id = v.vehicle_id AND j.{OPEN} LIMIT 1) oc ON true
      LEFT JOIN LATERAL (SELECT r.soh_pct, r.soc_pct, r.read_at, r.flags, p.serial
                           FROM service.vehicle_pack vp
                           JOIN service.battery_reading r ON r.pack_id = vp.pack_id
                           JOIN inventory.battery_pack p ON p.pack_id = r.pack_id
                          WHERE vp.vehicle_id = v.vehicle_id
                          ORDER BY r.read_at DESC LIMIT 1) br ON true"""


def get_vehicle(conn: Connection, vehicle_id: int):
    return conn.execute(sa.text(VEHICLE_SQL + " WHERE v.vehicle_id = :v"), {"v": vehicle_id}).mappings().first()


def free_service_used(conn: Connection, vehicle_id: int, free_service_no: int, except_job_card_id: int | None = None):
    """Where and when the vehicle used this free service, at any branch (free_service_no, used_on,
    branch_name, job_card_no), or None."""
    return conn.execute(sa.text("""
        SELECT * FROM service.free_services_used(:v, :except) WHERE free_service_no = :n LIMIT 1"""),
        {"v": vehicle_id, "except": except_job_card_id, "n": free_service_no}).mappings().first()


def vehicles(conn: Connection, vehicle_ids: list[int]):
    return conn.execute(sa.text(VEHICLE_SQL + " WHERE v.vehicle_id = ANY(:ids) ORDER BY v.registration_no, v.vin"),
                        {"ids": vehicle_ids}).mappings().all()


def vehicle_packs(conn: Connection, vehicle_id: int):
    return conn.execute(sa.text("""
        SELECT vp.*, p.chemistry, p.kwh FROM service.vehicle_pack vp
          JOIN inventory.battery_pack p ON p.pack_id = vp.pack_id
         WHERE vp.vehicle_id = :v ORDER BY vp.removed_on IS NULL, vp.fitted_on, vp.pack_id"""),
        {"v": vehicle_id}).mappings().all()


# --------------------------------------------------------------------------- arrival


def _typed(q: str) -> tuple[str, str | None]:
    """What was typed as the codes are stored (capitals and digits only: "ka 01-ab 1234" is
    KA01AB1234), and as a mobile number when it is one (+91 / 0 in front allowed)."""
    code = re.sub(r"[^A-Z0-9]", "", q.upper())
    digits = re.sub(r"[^0-9]", "", q)
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    only_a_number = re.fullmatch(r"[0-9 +()-]+", q.strip()) is not None
    mobile = digits if only_a_number and re.fullmatch(r"[6-9][0-9]{9}", digits) else None
    return code, mobile


def arrival_search(conn: Connection, q: str, limit: int = 20) -> tuple[list, list]:
    """Vehicles the workshop knows, and scooters sold here it has not seen yet (delivered units
    with no service.vehicle row), found by registration number (whole, its start or its end),
    VIN or its last 6 characters, motor number, battery serial or the owner's mobile."""
    code, mobile = _typed(q)
    if len(code) < 4:
        return [], []
    reg_fragment = len(code) >= 4
    params = {"code": code, "prefix": code + "%", "rprefix": code[::-1] + "%", "mobile": mobile, "limit": limit}
    # The vehicles found, read whole in the same statement (VEHICLE_SQL), at most ``limit`` of them.
    known = conn.execute(sa.text(VEHICLE_SQL + f"""
         WHERE v.vehicle_id IN (SELECT vehicle_id FROM (
            SELECT vehicle_id FROM service.vehicle WHERE registration_no = :code
            {"UNION SELECT vehicle_id FROM service.vehicle WHERE registration_no LIKE :prefix" if reg_fragment else ""}
            {"UNION SELECT vehicle_id FROM service.vehicle WHERE reverse(registration_no) LIKE :rprefix" if reg_fragment else ""}
            UNION SELECT vehicle_id FROM service.vehicle WHERE vin = :code
            UNION SELECT vehicle_id FROM service.vehicle WHERE right(vin, 6) = :code
            UNION SELECT vehicle_id FROM service.vehicle WHERE motor_no = :code
            UNION SELECT vp.vehicle_id FROM inventory.battery_pack p
                    JOIN service.vehicle_pack vp ON vp.pack_id = p.pack_id AND vp.removed_on IS NULL
                   WHERE p.serial = :code
            UNION SELECT v.vehicle_id FROM master.customer c JOIN service.vehicle v ON v.customer_id = c.customer_id
                   WHERE c.mobile = :mobile
        ) found LIMIT :limit)
         ORDER BY v.registration_no, v.vin"""), params).mappings().all()
    unseen = conn.execute(sa.text("""
        SELECT u.unit_id, u.vin, u.motor_no, u.colour, u.branch_id, va.name AS variant_name, m.name AS model_name,
               o.brand AS oem_name, d.delivered_on, r.reg_no
          FROM (SELECT unit_id FROM inventory.vehicle_unit WHERE vin = :code
                UNION SELECT unit_id FROM inventory.vehicle_unit WHERE right(vin, 6) = :code
                UNION SELECT unit_id FROM inventory.vehicle_unit WHERE motor_no = :code
                UNION SELECT f.unit_id FROM inventory.battery_pack p
                        JOIN inventory.battery_fitment f ON f.pack_id = p.pack_id AND f.removed_on IS NULL
                       WHERE p.serial = :code
                UNION SELECT d.unit_id FROM sales.registration r JOIN sales.delivery d ON d.booking_id = r.booking_id
                       WHERE r.reg_no = :code
                UNION SELECT d.unit_id FROM master.customer c JOIN sales.booking b ON b.customer_id = c.customer_id
                        JOIN sales.delivery d ON d.booking_id = b.booking_id
                       WHERE c.mobile = :mobile) found
          JOIN inventory.vehicle_unit u ON u.unit_id = found.unit_id
          JOIN oem.variant va ON va.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN LATERAL (SELECT booking_id, delivered_on FROM sales.delivery
                         WHERE unit_id = u.unit_id ORDER BY delivered_at DESC LIMIT 1) d ON true
          LEFT JOIN sales.registration r ON r.booking_id = d.booking_id
         WHERE NOT EXISTS (SELECT 1 FROM service.vehicle v WHERE v.unit_id = u.unit_id)
         ORDER BY u.vin LIMIT :limit"""), params).mappings().all()
    return list(known), list(unseen)


def unit_for_arrival(conn: Connection, unit_id: int):
    """A unit, its delivery (None: not delivered), its workshop record if any and its sale's owner when
    visible."""
    return conn.execute(sa.text("""
        SELECT u.unit_id, u.vin, u.motor_no, u.colour, va.name AS variant_name, m.name AS model_name,
               o.brand AS oem_name, d.delivered_on, r.reg_no, c.name AS owner_name, c.mobile AS owner_mobile,
               (SELECT vehicle_id FROM service.vehicle WHERE unit_id = u.unit_id) AS vehicle_id
          FROM inventory.vehicle_unit u
          JOIN oem.variant va ON va.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          LEFT JOIN LATERAL (SELECT booking_id, delivered_on FROM sales.delivery
                              WHERE unit_id = u.unit_id ORDER BY delivered_at DESC LIMIT 1) d ON true
          LEFT JOIN sales.registration r ON r.booking_id = d.booking_id
          LEFT JOIN sales.booking b ON b.booking_id = d.booking_id
          LEFT JOIN master.customer c ON c.customer_id = b.customer_id
         WHERE u.unit_id = :u"""), {"u": unit_id}).mappings().first()


def register_sold_here(conn: Connection, unit_id: int, branch_id: int, customer_id: int | None) -> int:
    return conn.execute(sa.text("""
        INSERT INTO service.vehicle (unit_id, branch_id, customer_id) VALUES (:u, :b, :c) RETURNING vehicle_id"""),
        {"u": unit_id, "b": branch_id, "c": customer_id}).scalar_one()


def owner_for(conn: Connection, mobile: str, name: str, branch_id: int) -> int:
    """The customer with this mobile and this name (as typed, any case); else a new customer of the
    branch's state. Families share phones, so the name decides."""
    found = conn.execute(sa.text("""
        SELECT customer_id FROM master.customer WHERE mobile = :m AND lower(btrim(name)) = lower(btrim(:n))
         ORDER BY customer_id LIMIT 1"""), {"m": mobile, "n": name}).scalar()
    if found:
        return found
    return conn.execute(sa.text("""
        INSERT INTO master.customer (branch_id, name, mobile, state_code)
        SELECT :b, btrim(:n), :m, left(gstin, 2) FROM master.branch WHERE branch_id = :b
        RETURNING customer_id"""), {"b": branch_id, "n": name, "m": mobile}).scalar_one()


def register_outside(conn: Connection, *, branch_id: int, customer_id: int, data: dict) -> int:
    vehicle_id = conn.execute(sa.text("""
        INSERT INTO service.vehicle (vin, motor_no, variant_id, colour, customer_id, registration_no, sale_date, branch_id)
        VALUES (:vin, :motor_no, :variant_id, :colour, :c, :registration_no, :sale_date, :b)
        RETURNING vehicle_id"""), {**{k: data.get(k) for k in (
            "vin", "motor_no", "variant_id", "colour", "registration_no", "sale_date")}, "c": customer_id, "b": branch_id}
    ).scalar_one()
    if data.get("pack_serial"):
        pack_id = conn.execute(sa.text("SELECT pack_id FROM inventory.battery_pack WHERE serial = :s"),
                               {"s": data["pack_serial"]}).scalar()
        if pack_id is None:
            pack_id = conn.execute(sa.text("""
                INSERT INTO inventory.battery_pack (serial, chemistry, kwh)
                SELECT :s, battery_chemistry, battery_kwh FROM oem.variant WHERE variant_id = :v
                RETURNING pack_id"""), {"s": data["pack_serial"], "v": data["variant_id"]}).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
            VALUES (:p, :v, :d, 'in the vehicle when first seen by the workshop')"""),
            {"p": pack_id, "v": vehicle_id, "d": data["sale_date"]})
    return vehicle_id


def variant_choices(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT va.variant_id, o.brand || ' ' || m.name || ' ' || va.name
          FROM oem.variant va JOIN oem.model m ON m.model_id = va.model_id JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE va.is_active ORDER BY 2""")).all()]


# --------------------------------------------------------------------------- job cards

JOB_CARD_SQL = """
    SELECT j.*, s.label AS state_label, v.registration_no, v.vin, v.unit_id, v.last_odometer_km,
           va.name AS variant_name, m.name AS model_name, o.brand AS oem_name,
           c.name AS customer_name, c.mobile AS customer_mobile,
           adv.name AS advisor_name, tech.name AS technician_name, ovr.name AS override_name
      FROM service.job_card j
      JOIN service.job_state s ON s.state = j.state
      JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
      JOIN oem.variant va ON va.variant_id = v.variant_id
      JOIN oem.model m ON m.model_id = va.model_id
      JOIN oem.oem o ON o.oem_id = m.oem_id
      JOIN master.customer c ON c.customer_id = j.customer_id
      LEFT JOIN master.staff adv ON adv.staff_id = j.advisor_id
      LEFT JOIN master.staff tech ON tech.staff_id = j.technician_id
      LEFT JOIN master.staff ovr ON ovr.staff_id = j.odometer_override_by"""

JOB_CARD_FIELDS = ("service_type", "free_service_no", "odometer_km", "complaints", "promised_at",
                   "odometer_override_reason", "odometer_override_by", "technician_id")


def get_job_card(conn: Connection, job_card_id: int):
    return conn.execute(sa.text(JOB_CARD_SQL + " WHERE j.job_card_id = :j"), {"j": job_card_id}).mappings().first()


def insert_job_card(conn: Connection, *, branch_id: int, vehicle_id: int, key: str, data: dict) -> int:
    values = {f: data.get(f) for f in JOB_CARD_FIELDS}
    return conn.execute(sa.text(f"""
        INSERT INTO service.job_card (branch_id, vehicle_id, idempotency_key, {', '.join(JOB_CARD_FIELDS)})
        VALUES (:branch_id, :vehicle_id, :key, {', '.join(':' + f for f in JOB_CARD_FIELDS)})
        RETURNING job_card_id"""), {"branch_id": branch_id, "vehicle_id": vehicle_id, "key": key, **values}).scalar_one()


def update_job_card(conn: Connection, job_card_id: int, data: dict) -> None:
    fields = [f for f in JOB_CARD_FIELDS if f in data]
    conn.execute(sa.text(f"UPDATE service.job_card SET {', '.join(f'{f} = :{f}' for f in fields)} "
                         "WHERE job_card_id = :j"), {**{f: data[f] for f in fields}, "j": job_card_id})


def cancel_job_card(conn: Connection, job_card_id: int, reason: str) -> None:
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = :r WHERE job_card_id = :j"),
                 {"r": reason, "j": job_card_id})


def move_job_card(conn: Connection, job_card_id: int, from_state: str, to_state: str) -> bool:
    """Move the card if it is still in ``from_state`` (a second tap on a board drawn before the first
    move changes nothing); the database refuses a move not in the transitions. True when moved."""
    return conn.execute(sa.text("UPDATE service.job_card SET state = :to WHERE job_card_id = :j AND state = :from"),
                        {"to": to_state, "j": job_card_id, "from": from_state}).rowcount == 1


def transitions(conn: Connection) -> list:
    return conn.execute(sa.text("""
        SELECT t.*, s.label AS to_label, s.sort_order FROM service.job_state_transition t
          JOIN service.job_state s ON s.state = t.to_state ORDER BY s.sort_order""")).mappings().all()


def states(conn: Connection) -> list:
    return conn.execute(sa.text("SELECT * FROM service.job_state ORDER BY sort_order")).mappings().all()


def state_history(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT h.*, f.label AS from_label, t.label AS to_label, s.name AS changed_by_name,
               lead(h.changed_at) OVER (ORDER BY h.changed_at, h.change_id) - h.changed_at AS time_in_state
          FROM service.job_state_change h
          LEFT JOIN service.job_state f ON f.state = h.from_state
          JOIN service.job_state t ON t.state = h.to_state
          LEFT JOIN master.staff s ON s.staff_id = h.changed_by
         WHERE h.job_card_id = :j ORDER BY h.changed_at, h.change_id"""), {"j": job_card_id}).mappings().all()


def technician_choices(conn: Connection, branch_id: int) -> list[tuple[int, str]]:
    """Active staff of the branch who work on vehicles (data, not access: who may be assigned)."""
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT staff_id, name FROM master.staff
         WHERE branch_id = :b AND is_active AND designation = 'TECHNICIAN'   -- who is assigned (data, not access)
         ORDER BY name"""), {"b": branch_id}).all()]


def vehicle_job_cards(conn: Connection, vehicle_id: int):
    return conn.execute(sa.text("""
        SELECT j.job_card_id, j.job_card_no, j.opened_at, j.closed_at, j.service_type, j.free_service_no, j.state,
               s.label AS state_label, j.odometer_km, j.complaints, j.branch_id, j.invoice_id, g.gate_pass_id,
               g.gate_pass_no
          FROM service.job_card j JOIN service.job_state s ON s.state = j.state
          LEFT JOIN service.gate_pass g ON g.job_card_id = j.job_card_id
         WHERE j.vehicle_id = :v ORDER BY j.opened_at DESC"""), {"v": vehicle_id}).mappings().all()


# --------------------------------------------------------------------------- the board


def board(conn: Connection, branch_id: int, staff_id: int | None = None, per_state: int | None = None,
          whole_state: str | None = None):
    """The branch's open job cards, oldest move first; only ``staff_id``'s own (the card's
    technician, or a line of theirs) when given. With ``per_state``, only the oldest ``per_state``
    of each state (all of ``whole_state``); each row says how many its state has (``in_state_count``).
    The open cards are counted and ranked on the board index alone; only the cards shown are joined."""
    mine = ("AND (j.technician_id = :me OR EXISTS (SELECT 1 FROM service.job_line l "
            "WHERE l.job_card_id = j.job_card_id AND l.technician_id = :me))") if staff_id else ""
    shown = "WHERE o.n <= :per OR o.state = :whole" if per_state else ""
    return conn.execute(sa.text(f"""
        WITH o AS (
            SELECT j.job_card_id, j.state, count(*) OVER (PARTITION BY j.state) AS in_state_count,
                   row_number() OVER (PARTITION BY j.state ORDER BY j.state_changed_at, j.job_card_id) AS n
              FROM service.job_card j
             WHERE j.branch_id = :b AND j.{OPEN} {mine})
        SELECT j.job_card_id, j.job_card_no, j.state, j.state_changed_at, j.promised_at, j.service_type,
               j.free_service_no, j.opened_at, v.registration_no, v.vin, m.name AS model_name,
               c.name AS customer_name, tech.name AS technician_name, now() AS now, o.in_state_count
          FROM o
          JOIN service.job_card j ON j.job_card_id = o.job_card_id
          JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
          JOIN oem.variant va ON va.variant_id = v.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          JOIN master.customer c ON c.customer_id = j.customer_id
          LEFT JOIN master.staff tech ON tech.staff_id = j.technician_id
         {shown}
         ORDER BY j.state_changed_at, j.job_card_id"""),
        {"b": branch_id, "me": staff_id, "per": per_state, "whole": whole_state}).mappings().all()


def board_states(conn: Connection) -> list:
    """The job states in board order, each with the moves out of it (to_state, to_label, by_tap,
    advisor_only, in the target's order): the board's columns and buttons in one read."""
    return conn.execute(sa.text("""
        SELECT s.state, s.label, s.is_open, s.sort_order,
               coalesce(json_agg(json_build_object('to_state', t.to_state, 'to_label', ts.label, 'by_tap', t.by_tap,
                                                   'advisor_only', t.advisor_only) ORDER BY ts.sort_order)
                        FILTER (WHERE t.to_state IS NOT NULL), '[]') AS moves
          FROM service.job_state s
          LEFT JOIN service.job_state_transition t ON t.from_state = s.state
          LEFT JOIN service.job_state ts ON ts.state = t.to_state
         GROUP BY s.state ORDER BY s.sort_order""")).mappings().all()


# --------------------------------------------------------------------------- checklist


def checklist(conn: Connection, job_card_id: int):
    """Every active item (and any inactive one this card already answered), with the card's answer."""
    return conn.execute(sa.text("""
        SELECT i.item_id, i.name, i.sort_order, r.result, r.remark
          FROM service.inspection_item i
          LEFT JOIN service.inspection_result r ON r.item_id = i.item_id AND r.job_card_id = :j
         WHERE i.is_active OR r.item_id IS NOT NULL
         ORDER BY i.sort_order, i.name"""), {"j": job_card_id}).mappings().all()


def save_checklist(conn: Connection, job_card_id: int, answers: dict[int, tuple[str | None, str | None]]) -> None:
    """Answers by item: (result or None to clear, remark); the cleared ones in one statement, the
    answered ones in another (an unchanged answer keeps who checked it and when)."""
    cleared = [item_id for item_id, (result, _) in answers.items() if result is None]
    answered = [(item_id, result, remark) for item_id, (result, remark) in answers.items() if result is not None]
    if cleared:
        conn.execute(sa.text("DELETE FROM service.inspection_result WHERE job_card_id = :j AND item_id = ANY(:i)"),
                     {"j": job_card_id, "i": cleared})
    if answered:
        conn.execute(sa.text("""
            INSERT INTO service.inspection_result (job_card_id, item_id, result, remark)
            SELECT :j, a.item_id, a.result, a.remark
              FROM unnest(CAST(:items AS integer[]), CAST(:results AS text[]), CAST(:remarks AS text[]))
                   AS a (item_id, result, remark)
            ON CONFLICT (job_card_id, item_id) DO UPDATE
               SET result = EXCLUDED.result, remark = EXCLUDED.remark, checked_by = EXCLUDED.checked_by,
                   checked_at = now()
             WHERE (inspection_result.result, inspection_result.remark)
                   IS DISTINCT FROM (EXCLUDED.result, EXCLUDED.remark)"""),
            {"j": job_card_id, "items": [a[0] for a in answered], "results": [a[1] for a in answered],
             "remarks": [a[2] for a in answered]})


# --------------------------------------------------------------------------- battery readings

READING_FIELDS = ("soh_pct", "soc_pct", "cycle_count", "cell_v_max", "cell_v_min", "pack_temp_max_c",
                  "insulation_mohm", "fault_codes", "charger_ok", "remark")


def card_packs(conn: Connection, job_card_id: int) -> list[tuple[int, str]]:
    """The packs in the card's vehicle now (those a reading may be of)."""
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT vp.pack_id, vp.serial FROM service.job_card j
          JOIN service.vehicle_pack vp ON vp.vehicle_id = j.vehicle_id AND vp.removed_on IS NULL
         WHERE j.job_card_id = :j ORDER BY vp.serial"""), {"j": job_card_id}).all()]


def card_readings(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT r.*, p.serial FROM service.battery_reading r JOIN inventory.battery_pack p ON p.pack_id = r.pack_id
         WHERE r.job_card_id = :j ORDER BY p.serial"""), {"j": job_card_id}).mappings().all()


def save_reading(conn: Connection, job_card_id: int, pack_id: int, data: dict) -> int:
    """The card's reading of the pack, recorded or replaced (one per pack per card)."""
    values = {f: data.get(f) for f in READING_FIELDS}
    return conn.execute(sa.text(f"""
        INSERT INTO service.battery_reading (job_card_id, pack_id, {', '.join(READING_FIELDS)})
        VALUES (:j, :p, {', '.join(':' + f for f in READING_FIELDS)})
        ON CONFLICT (job_card_id, pack_id) DO UPDATE
           SET {', '.join(f'{f} = EXCLUDED.{f}' for f in READING_FIELDS)}, read_at = now(),
               recorded_by = EXCLUDED.recorded_by
        RETURNING reading_id"""), {"j": job_card_id, "p": pack_id, **values}).scalar_one()


def pack_trends(conn: Connection, vehicle_id: int):
    """Every reading of every pack the vehicle has held, oldest first: the SoH trend of each pack.
    Another branch's job card number is not shown (its card is that branch's document)."""
    return conn.execute(sa.text("""
        SELECT r.pack_id, p.serial, r.read_at, r.soh_pct, r.soc_pct, r.cycle_count, r.cell_delta_mv,
               r.pack_temp_max_c, r.insulation_mohm, r.fault_codes, r.charger_ok, r.flags,
               j.job_card_no, j.job_card_id, j.odometer_km
          FROM (SELECT DISTINCT pack_id FROM service.vehicle_pack WHERE vehicle_id = :v) vp
          JOIN service.battery_reading r ON r.pack_id = vp.pack_id
          JOIN inventory.battery_pack p ON p.pack_id = r.pack_id
          LEFT JOIN service.job_card j ON j.job_card_id = r.job_card_id
         ORDER BY p.serial, r.read_at"""), {"v": vehicle_id}).mappings().all()


def reading_limits(conn: Connection, on) -> dict[str, object]:
    return dict(conn.execute(sa.text("""
        SELECT check_code, limit_value FROM service.reading_limit
         WHERE master.valid_during(effective_from, effective_to) @> CAST(:d AS date)"""), {"d": on}).all())


# --------------------------------------------------------------------------- photos


def card_photos(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT photo_id, taken_at, caption, sha256, octet_length(image) AS size FROM service.job_photo
         WHERE job_card_id = :j ORDER BY taken_at, photo_id"""), {"j": job_card_id}).mappings().all()


def add_photo(conn: Connection, job_card_id: int, *, content_type: str, image: bytes, sha256: str, thumbnail: bytes,
              caption: str | None) -> int:
    return conn.execute(sa.text("""
        INSERT INTO service.job_photo (job_card_id, content_type, image, sha256, thumbnail, caption)
        VALUES (:j, :t, :i, :s, :th, :c)
        ON CONFLICT (job_card_id, sha256) DO NOTHING
        RETURNING photo_id"""), {"j": job_card_id, "t": content_type, "i": image, "s": sha256, "th": thumbnail,
                                 "c": caption}).scalar() or conn.execute(sa.text(
        "SELECT photo_id FROM service.job_photo WHERE job_card_id = :j AND sha256 = :s"),
        {"j": job_card_id, "s": sha256}).scalar_one()


def photo(conn: Connection, photo_id: int, thumbnail: bool):
    """The photo (or its thumbnail) of a job card the request may see."""
    column = "p.thumbnail" if thumbnail else "p.image"
    content_type = "'image/jpeg'" if thumbnail else "p.content_type"
    return conn.execute(sa.text(f"""
        SELECT {column} AS data, {content_type} AS content_type, p.sha256
          FROM service.job_photo p JOIN service.job_card j ON j.job_card_id = p.job_card_id
         WHERE p.photo_id = :p"""), {"p": photo_id}).mappings().first()


# --------------------------------------------------------------------------- settings


def inspection_items(conn: Connection):
    return conn.execute(sa.text("SELECT * FROM service.inspection_item ORDER BY sort_order, name")).mappings().all()


def update_inspection_item(conn: Connection, item_id: int, name: str, sort_order: int, is_active: bool) -> None:
    conn.execute(sa.text("""
        UPDATE service.inspection_item SET name = :n, sort_order = :o, is_active = :a
         WHERE item_id = :i AND (name, sort_order, is_active) IS DISTINCT FROM (:n, :o, :a)"""),
        {"i": item_id, "n": name, "o": sort_order, "a": is_active})


def insert_inspection_item(conn: Connection, name: str, sort_order: int) -> None:
    conn.execute(sa.text("INSERT INTO service.inspection_item (name, sort_order) VALUES (:n, :o)"),
                 {"n": name, "o": sort_order})


def reading_limit_rows(conn: Connection):
    return conn.execute(sa.text("""
        SELECT * FROM service.reading_limit ORDER BY check_code, effective_from DESC""")).mappings().all()


def new_reading_limit(conn: Connection, code: str, value, effective_from) -> None:
    """A limit from a day on: the one in force until then ends the day before (dated master data,
    never overwritten, so a reading is always judged by the limit of its own day)."""
    conn.execute(sa.text("""
        UPDATE service.reading_limit SET effective_to = CAST(:f AS date) - 1
         WHERE check_code = :c AND effective_from < :f AND (effective_to IS NULL OR effective_to >= :f)"""),
        {"c": code, "f": effective_from})
    conn.execute(sa.text("""
        INSERT INTO service.reading_limit (check_code, limit_value, effective_from) VALUES (:c, :v, :f)"""),
        {"c": code, "v": value, "f": effective_from})
