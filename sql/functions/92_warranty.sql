-- The warranty schema's functions and triggers as they are now: init-db runs this file again
-- whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").
--
-- The rules take plain inputs (VIN, variant or model, sale date, odometer, the day asked about,
-- the packs fitted), so the workshop asks them about any vehicle, sold here or elsewhere.
--
-- Boundaries, as the OEM booklets word them:
-- * "Valid for N years from the date of sale": the sale day is the first day covered and the
--   last is the day before the N-th anniversary (sold 15-06-2024, 3 years: covered to
--   14-06-2027, not on 15-06-2027). A sale on 29 February: the anniversary in a common year is
--   1 March, so the last day is 28 February (as insurance covers are counted, webapp/insurance).
-- * "Or N km, whichever comes first": covered while the odometer reads N km or less over the
--   reading the term started at; N + 1 km is past it.
-- * A free service "at M months / K km, whichever comes first" is due up to and including the
--   day M calendar months after the sale (31-01 + 1 month = the last day of February) and the
--   reading of K km; the day after, or K + 1 km, it has expired.
-- * An extended plan "bought within M months of the sale": up to the day before the M-month
--   anniversary of the sale, the same way as a term of years.

-- The last day of a term of whole years counted from p_start (p_start is its first day).
CREATE OR REPLACE FUNCTION warranty.term_end(p_start date, p_years integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN to_char(p_start, 'MM-DD') = '02-29'
             AND to_char((p_start + make_interval(years => p_years))::date, 'MM-DD') = '02-28'
        THEN (p_start + make_interval(years => p_years))::date      -- anniversary 1 March: 28 February is the last
        ELSE (p_start + make_interval(years => p_years))::date - 1
    END
$$;

-- Whether a term covers the day and the odometer, and what is left of it.
CREATE OR REPLACE FUNCTION warranty.judge(p_start date, p_years integer, p_start_km integer, p_km integer,
                                          p_on date, p_odometer integer, p_plan_sale_id integer)
RETURNS warranty.coverage
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    c warranty.coverage;
    left_age interval;
BEGIN
    c.starts_on := p_start;
    c.starts_km := coalesce(p_start_km, 0);
    c.plan_sale_id := p_plan_sale_id;
    IF coalesce(p_years, 0) = 0 THEN
        c.covered := false;
        c.reason := 'NO_WARRANTY';
        RETURN c;
    END IF;
    c.ends_on := warranty.term_end(p_start, p_years);
    c.ends_km := c.starts_km + p_km;                               -- NULL: no km limit
    IF p_on < p_start THEN
        c.reason := 'NOT_STARTED';
    ELSIF p_on > c.ends_on THEN
        c.reason := 'EXPIRED_BY_DATE';
    ELSIF p_odometer > c.ends_km THEN
        c.reason := 'EXPIRED_BY_KM';
    END IF;
    c.covered := c.reason IS NULL;
    IF c.covered THEN
        left_age := age(c.ends_on + 1, p_on);                      -- the last day counts as a day left
        c.left_months := extract(year FROM left_age)::integer * 12 + extract(month FROM left_age)::integer;
        c.left_days := extract(day FROM left_age)::integer;
        c.left_km := c.ends_km - p_odometer;
    ELSE
        c.left_months := 0;
        c.left_days := 0;
        c.left_km := CASE WHEN c.ends_km IS NOT NULL THEN 0 END;
    END IF;
    RETURN c;
END
$$;

-- The extended plan sold for a VIN that lengthens its vehicle (p_part 'VEHICLE') or battery
-- ('BATTERY') cover: at most one per part (warranty.check_plan_sale); one whose invoice was
-- credit-noted lengthens nothing.
CREATE OR REPLACE FUNCTION warranty.plan_for(p_vin text, p_part text)
RETURNS TABLE (plan_sale_id integer, extra_years integer, extra_km integer)
LANGUAGE sql STABLE
AS $$
    SELECT s.plan_sale_id,
           CASE p_part WHEN 'VEHICLE' THEN p.vehicle_extra_years ELSE p.battery_extra_years END,
           CASE p_part WHEN 'VEHICLE' THEN p.vehicle_extra_km ELSE p.battery_extra_km END
      FROM warranty.plan_sale s JOIN warranty.plan p ON p.plan_id = s.plan_id
     WHERE s.vin = p_vin AND s.credit_note_id IS NULL
       AND CASE p_part WHEN 'VEHICLE' THEN p.vehicle_extra_years + p.vehicle_extra_km
                       ELSE p.battery_extra_years + p.battery_extra_km END > 0
     ORDER BY s.plan_sale_id
     LIMIT 1
$$;

-- Vehicle warranty by VIN: the variant's years / km from the sale date, whichever comes first,
-- lengthened by an extended plan sold for the VIN (extra km only where the variant has a limit).
CREATE OR REPLACE FUNCTION warranty.vehicle_coverage(p_vin text, p_variant_id integer, p_sale_date date,
                                                     p_on date, p_odometer integer)
RETURNS warranty.coverage
LANGUAGE sql STABLE
AS $$
    SELECT warranty.judge(p_sale_date, v.vehicle_warranty_years + coalesce(x.extra_years, 0), 0,
                          v.vehicle_warranty_km + coalesce(x.extra_km, 0), p_on, p_odometer, x.plan_sale_id)
      FROM oem.variant v
      LEFT JOIN LATERAL warranty.plan_for(p_vin, 'VEHICLE') x ON true
     WHERE v.variant_id = p_variant_id
$$;

-- The rule a replacement pack fitted on p_on follows for the OEM: its own row, else every OEM's;
-- REMAINING when neither says.
CREATE OR REPLACE FUNCTION warranty.replacement_term(p_oem_id integer, p_on date) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT pack_term FROM warranty.replacement_rule
                      WHERE (oem_id = p_oem_id OR oem_id IS NULL)
                        AND master.valid_during(effective_from, effective_to) @> p_on
                      ORDER BY oem_id IS NULL LIMIT 1), 'REMAINING')
$$;

-- Battery warranty per pack: the variant's years / km / minimum state of health, lengthened by an
-- extended plan. p_packs: [{pack_id, serial, fitted_on, fitted_km, replaced_pack_id, soh_pct}].
-- A pack that replaced none is the vehicle's own: its term runs from the sale. A pack fitted as a
-- warranty replacement follows the replacement rule in force on its fitment day: REMAINING takes
-- the term of the pack it replaced (found in the list; one not in the list was the vehicle's
-- own), FRESH starts a new term on the fitment day and counts km from the odometer then
-- (fitted_km; unknown: from 0). The state of health does not end the cover: a pack below the
-- floor within its term is the capacity fault the warranty pays for (soh_below_floor); at or
-- above the floor, lost capacity alone is not a warranty fault.
CREATE OR REPLACE FUNCTION warranty.battery_coverage(p_vin text, p_variant_id integer, p_sale_date date, p_on date,
                                                     p_odometer integer, p_packs jsonb)
RETURNS TABLE (pack_id integer, serial text, pack_term text, covered boolean, reason text, starts_on date,
               ends_on date, starts_km integer, ends_km integer, left_months integer, left_days integer,
               left_km integer, plan_sale_id integer, min_soh_pct smallint, soh_pct numeric,
               soh_below_floor boolean)
LANGUAGE sql STABLE
AS $$
    WITH RECURSIVE pack AS (
        SELECT (e->>'pack_id')::integer AS pack_id, e->>'serial' AS serial, (e->>'fitted_on')::date AS fitted_on,
               (e->>'fitted_km')::integer AS fitted_km, (e->>'replaced_pack_id')::integer AS replaced_pack_id,
               (e->>'soh_pct')::numeric AS soh_pct, n AS ord
          FROM jsonb_array_elements(coalesce(p_packs, '[]'::jsonb)) WITH ORDINALITY AS a (e, n)
    ), terms AS (
        SELECT v.variant_id, m.oem_id, v.battery_warranty_years AS years, v.battery_warranty_km AS km,
               v.battery_min_soh_pct AS min_soh
          FROM oem.variant v JOIN oem.model m ON m.model_id = v.model_id
         WHERE v.variant_id = p_variant_id
    ), chain (pack_id, pack_term, starts_on, starts_km, depth) AS (
        -- The vehicle's own packs, and replacements of a pack not in the list (the vehicle's own).
        SELECT p.pack_id, r.term,
               CASE r.term WHEN 'FRESH' THEN p.fitted_on ELSE p_sale_date END,
               CASE r.term WHEN 'FRESH' THEN coalesce(p.fitted_km, 0) ELSE 0 END, 1
          FROM pack p CROSS JOIN terms t
          CROSS JOIN LATERAL (SELECT CASE WHEN p.replaced_pack_id IS NULL THEN 'ORIGINAL'
                                          ELSE warranty.replacement_term(t.oem_id, p.fitted_on) END AS term) r
         WHERE p.replaced_pack_id IS NULL
            OR NOT EXISTS (SELECT 1 FROM pack q WHERE q.pack_id = p.replaced_pack_id)
        UNION ALL
        SELECT p.pack_id, r.term,
               CASE r.term WHEN 'FRESH' THEN p.fitted_on ELSE c.starts_on END,
               CASE r.term WHEN 'FRESH' THEN coalesce(p.fitted_km, 0) ELSE c.starts_km END, c.depth + 1
          FROM chain c JOIN pack p ON p.replaced_pack_id = c.pack_id AND p.pack_id <> c.pack_id
          CROSS JOIN terms t
          CROSS JOIN LATERAL (SELECT warranty.replacement_term(t.oem_id, p.fitted_on) AS term) r
         WHERE c.depth < 20
    )
    SELECT p.pack_id, p.serial, c.pack_term, (j).covered, (j).reason, (j).starts_on, (j).ends_on, (j).starts_km,
           (j).ends_km, (j).left_months, (j).left_days, (j).left_km, (j).plan_sale_id, t.min_soh, p.soh_pct,
           CASE WHEN p.soh_pct IS NOT NULL AND t.min_soh IS NOT NULL THEN p.soh_pct < t.min_soh END
      FROM pack p
      JOIN chain c ON c.pack_id = p.pack_id
      CROSS JOIN terms t
      LEFT JOIN LATERAL warranty.plan_for(p_vin, 'BATTERY') x ON true
      CROSS JOIN LATERAL (SELECT warranty.judge(c.starts_on, t.years + coalesce(x.extra_years, 0), c.starts_km,
                                                t.km + coalesce(x.extra_km, 0), p_on, p_odometer,
                                                x.plan_sale_id) AS j) jj
     ORDER BY p.ord
$$;

-- The model's free-service schedule for a vehicle on a day and odometer: each service USED (its
-- number is in p_used: the job cards that used it), EXPIRED (past its months or km, whichever
-- came first), DUE (the first one neither used nor expired) or TO_COME (the later ones).
CREATE OR REPLACE FUNCTION warranty.free_services(p_model_id integer, p_sale_date date, p_on date,
                                                  p_odometer integer, p_used integer[])
RETURNS TABLE (service_no smallint, due_months smallint, due_km integer, due_on date, state text,
               expired_by text, left_days integer, left_km integer)
LANGUAGE sql STABLE
AS $$
    WITH schedule AS (
        SELECT f.service_no, f.due_months, f.due_km,
               (p_sale_date + make_interval(months => f.due_months))::date AS due_on,
               f.service_no = ANY (coalesce(p_used, '{}')) AS used
          FROM oem.free_service f
         WHERE f.model_id = p_model_id
    ), judged AS (
        SELECT s.*, CASE WHEN s.used THEN NULL
                         WHEN p_on > s.due_on THEN 'DATE'
                         WHEN p_odometer > s.due_km THEN 'KM' END AS expired_by
          FROM schedule s
    )
    SELECT j.service_no, j.due_months, j.due_km, j.due_on,
           CASE WHEN j.used THEN 'USED'
                WHEN j.expired_by IS NOT NULL THEN 'EXPIRED'
                WHEN j.service_no = min(j.service_no) FILTER (WHERE NOT j.used AND j.expired_by IS NULL) OVER ()
                THEN 'DUE'
                ELSE 'TO_COME' END,
           CASE j.expired_by WHEN 'DATE' THEN 'EXPIRED_BY_DATE' WHEN 'KM' THEN 'EXPIRED_BY_KM' END,
           CASE WHEN NOT j.used AND j.expired_by IS NULL THEN j.due_on - p_on END,
           CASE WHEN NOT j.used AND j.expired_by IS NULL THEN j.due_km - p_odometer END
      FROM judged j
     ORDER BY j.service_no
$$;

-- The recall / service campaigns open on a day that match a vehicle (its VIN listed, or its model
-- made within the months) and are not yet done on it, at any branch.
CREATE OR REPLACE FUNCTION warranty.open_campaigns(p_vin text, p_model_id integer, p_mfg_month date, p_on date)
RETURNS SETOF warranty.campaign
LANGUAGE sql STABLE
AS $$
    SELECT c.* FROM warranty.campaign c
     WHERE c.opened_on <= p_on AND (c.closed_on IS NULL OR c.closed_on >= p_on)
       AND ((c.match_by = 'VIN_LIST' AND EXISTS (
                SELECT 1 FROM warranty.campaign_vin l WHERE l.campaign_id = c.campaign_id AND l.vin = p_vin))
         OR (c.match_by = 'MFG_RANGE' AND c.model_id = p_model_id
             AND date_trunc('month', p_mfg_month)::date BETWEEN c.mfg_from AND c.mfg_to))
       AND NOT EXISTS (SELECT 1 FROM warranty.campaign_done d WHERE d.campaign_id = c.campaign_id AND d.vin = p_vin)
     ORDER BY c.kind = 'SERVICE', c.opened_on, c.code
$$;

-- A plan sold for a VIN: the plan in force and on sale on the day, made for the vehicle's model,
-- bought within its months of the vehicle's sale, and no other plan of the VIN in force lengthening
-- the same part (vehicle or battery). Sold here, it is the invoice line that names the plan and the
-- VIN (warranty.sell_plan_on_invoice writes it); else it was bought elsewhere, with that dealer's
-- invoice reference (plan_sale_invoiced_or_elsewhere). Once recorded, the only change is its end by
-- a credit note of its own invoice (warranty.end_plan_on_credit_note).
CREATE OR REPLACE FUNCTION warranty.check_plan_sale() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    p warranty.plan;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF (to_jsonb(NEW) - 'ended_on' - 'credit_note_id') IS DISTINCT FROM (to_jsonb(OLD) - 'ended_on' - 'credit_note_id')
           OR OLD.credit_note_id IS NOT NULL
           OR NOT EXISTS (SELECT 1 FROM billing.credit_note n
                           WHERE n.credit_note_id = NEW.credit_note_id AND n.invoice_id = NEW.invoice_id) THEN
            RAISE EXCEPTION 'a plan sale is ended by a credit note of its own invoice and changes no other way'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_sale_fixed';
        END IF;
        RETURN NEW;
    END IF;
    SELECT * INTO p FROM warranty.plan WHERE plan_id = NEW.plan_id;
    IF NEW.invoice_line_no IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM billing.invoice_line l
            WHERE l.invoice_id = NEW.invoice_id AND l.line_no = NEW.invoice_line_no
              AND l.plan_id = NEW.plan_id AND l.plan_vin = NEW.vin) THEN
        RAISE EXCEPTION 'invoice line % does not sell plan % for VIN %', NEW.invoice_line_no, p.name, NEW.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_sale_invoice_line';
    END IF;
    IF NOT p.is_active OR NEW.sold_on < p.valid_from OR NEW.sold_on > coalesce(p.valid_to, 'infinity') THEN
        RAISE EXCEPTION 'plan % is not on sale on %', p.name, NEW.sold_on
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_sale_plan_in_force';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM oem.model m WHERE m.model_id = NEW.model_id AND m.oem_id = p.oem_id)
       OR (EXISTS (SELECT 1 FROM warranty.plan_model pm WHERE pm.plan_id = p.plan_id)
           AND NOT EXISTS (SELECT 1 FROM warranty.plan_model pm
                            WHERE pm.plan_id = p.plan_id AND pm.model_id = NEW.model_id)) THEN
        RAISE EXCEPTION 'plan % is not made for this model', p.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_sale_model';
    END IF;
    IF NEW.sold_on > (NEW.vehicle_sold_on + make_interval(months => p.buy_within_months))::date - 1 THEN
        RAISE EXCEPTION 'plan % is bought within % months of the sale', p.name, p.buy_within_months
            USING ERRCODE = 'check_violation', CONSTRAINT = 'plan_sale_window';
    END IF;
    IF EXISTS (SELECT 1 FROM warranty.plan_sale s JOIN warranty.plan o ON o.plan_id = s.plan_id
                WHERE s.vin = NEW.vin AND s.plan_sale_id IS DISTINCT FROM NEW.plan_sale_id AND s.credit_note_id IS NULL
                  AND ((o.vehicle_extra_years + o.vehicle_extra_km > 0 AND p.vehicle_extra_years + p.vehicle_extra_km > 0)
                    OR (o.battery_extra_years + o.battery_extra_km > 0
                        AND p.battery_extra_years + p.battery_extra_km > 0))) THEN
        RAISE EXCEPTION 'VIN % already has a plan lengthening the same cover', NEW.vin
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'plan_sale_part_taken';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER plan_sale_check BEFORE INSERT OR UPDATE ON warranty.plan_sale
    FOR EACH ROW EXECUTE FUNCTION warranty.check_plan_sale();

-- A plan sold on an invoice stays as long as its invoice line (which is permanent).
CREATE OR REPLACE TRIGGER plan_sale_invoiced_is_permanent BEFORE DELETE ON warranty.plan_sale
    FOR EACH ROW WHEN (OLD.invoice_line_no IS NOT NULL) EXECUTE FUNCTION audit.refuse_change();

-- An invoice line that names a plan sells it for the VIN, in the posting transaction: on a vehicle
-- invoice, for the vehicle it sells (sold on the invoice date); on a counter invoice, for a vehicle
-- the workshop knows (its sale date) or this showroom delivered (the delivery date). The line is
-- the plan's SAC; the buyer is a customer on record; the price of the plan sale is the line's
-- taxable value. The plan's own rules are warranty.check_plan_sale's.
CREATE OR REPLACE FUNCTION warranty.sell_plan_on_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inv billing.invoice;
    p warranty.plan;
    veh_model integer;
    veh_sold_on date;
BEGIN
    SELECT * INTO inv FROM billing.invoice WHERE invoice_id = NEW.invoice_id;
    SELECT * INTO p FROM warranty.plan WHERE plan_id = NEW.plan_id;
    IF inv.kind NOT IN ('VEHICLE', 'COUNTER') THEN
        RAISE EXCEPTION 'an extended plan is sold on a vehicle or counter invoice'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_plan_invoice_kind';
    END IF;
    IF NEW.hsn_code IS DISTINCT FROM p.sac_code THEN
        RAISE EXCEPTION 'plan % is billed under SAC %', p.name, p.sac_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_plan_sac';
    END IF;
    IF inv.customer_id IS NULL THEN
        RAISE EXCEPTION 'an extended plan is sold to a customer on record'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_plan_customer';
    END IF;
    IF inv.kind = 'VEHICLE' THEN
        SELECT va.model_id, inv.invoice_date INTO veh_model, veh_sold_on
          FROM inventory.vehicle_unit u JOIN oem.variant va ON va.variant_id = u.variant_id
         WHERE u.unit_id = inv.unit_id AND u.vin = NEW.plan_vin;
    ELSE
        SELECT va.model_id, v.sale_date INTO veh_model, veh_sold_on
          FROM service.vehicle v JOIN oem.variant va ON va.variant_id = v.variant_id
         WHERE v.vin = NEW.plan_vin;
        IF NOT FOUND THEN
            SELECT va.model_id, d.delivered_on INTO veh_model, veh_sold_on
              FROM inventory.vehicle_unit u
              JOIN oem.variant va ON va.variant_id = u.variant_id
              JOIN LATERAL (SELECT d.delivered_on FROM sales.delivery d WHERE d.unit_id = u.unit_id
                             ORDER BY d.delivered_on DESC, d.delivery_id DESC LIMIT 1) d ON true
             WHERE u.vin = NEW.plan_vin AND u.status = 'DELIVERED';
        END IF;
    END IF;
    IF veh_model IS NULL THEN
        RAISE EXCEPTION 'VIN % is not a vehicle this invoice can sell a plan for', NEW.plan_vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_plan_vehicle';
    END IF;
    INSERT INTO warranty.plan_sale (branch_id, plan_id, vin, model_id, vehicle_sold_on, sold_on, customer_id, price,
                                    invoice_id, invoice_line_no)
    VALUES (inv.branch_id, NEW.plan_id, NEW.plan_vin, veh_model, veh_sold_on, inv.invoice_date, inv.customer_id,
            NEW.taxable_value, NEW.invoice_id, NEW.line_no);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER invoice_line_sells_plan AFTER INSERT ON billing.invoice_line
    FOR EACH ROW WHEN (NEW.plan_id IS NOT NULL) EXECUTE FUNCTION warranty.sell_plan_on_invoice();

-- A credit note reverses its invoice in full: the plans the invoice sold end on its day (the
-- vehicle's cover is its own again).
CREATE OR REPLACE FUNCTION warranty.end_plan_on_credit_note() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE warranty.plan_sale SET ended_on = NEW.note_date, credit_note_id = NEW.credit_note_id
     WHERE invoice_id = NEW.invoice_id AND credit_note_id IS NULL;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER credit_note_ends_plans AFTER INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION warranty.end_plan_on_credit_note();

-- Only a VIN-list campaign lists VINs.
CREATE OR REPLACE FUNCTION warranty.check_campaign_vin() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM warranty.campaign c WHERE c.campaign_id = NEW.campaign_id AND c.match_by = 'VIN_LIST') THEN
        RAISE EXCEPTION 'campaign % matches by manufacture month, not by a list of VINs', NEW.campaign_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_vin_listed_campaign';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER campaign_vin_check BEFORE INSERT OR UPDATE ON warranty.campaign_vin
    FOR EACH ROW EXECUTE FUNCTION warranty.check_campaign_vin();

-- A campaign is done on a vehicle it matches, while it is open.
CREATE OR REPLACE FUNCTION warranty.check_campaign_done() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.campaign;
BEGIN
    SELECT * INTO c FROM warranty.campaign WHERE campaign_id = NEW.campaign_id;
    IF NEW.done_on < c.opened_on OR NEW.done_on > coalesce(c.closed_on, 'infinity') THEN
        RAISE EXCEPTION 'campaign % is open from % to %', c.code, c.opened_on, c.closed_on
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_done_while_open';
    END IF;
    IF (c.match_by = 'VIN_LIST' AND NOT EXISTS (
            SELECT 1 FROM warranty.campaign_vin l WHERE l.campaign_id = c.campaign_id AND l.vin = NEW.vin))
       OR (c.match_by = 'MFG_RANGE' AND (NEW.model_id IS DISTINCT FROM c.model_id OR NEW.mfg_month IS NULL
                                         OR NEW.mfg_month NOT BETWEEN c.mfg_from AND c.mfg_to)) THEN
        RAISE EXCEPTION 'campaign % does not cover VIN %', c.code, NEW.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'campaign_done_matches';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER campaign_done_check BEFORE INSERT OR UPDATE ON warranty.campaign_done
    FOR EACH ROW EXECUTE FUNCTION warranty.check_campaign_done();

-- Whether a campaign covers a vehicle: its VIN listed, or its model made within the months.
CREATE OR REPLACE FUNCTION warranty.campaign_covers(p_campaign_id integer, p_vin text, p_model_id integer,
                                                    p_mfg_month date) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT 1 FROM warranty.campaign c
         WHERE c.campaign_id = p_campaign_id
           AND ((c.match_by = 'VIN_LIST' AND EXISTS (
                    SELECT 1 FROM warranty.campaign_vin l WHERE l.campaign_id = c.campaign_id AND l.vin = p_vin))
             OR (c.match_by = 'MFG_RANGE' AND c.model_id = p_model_id
                 AND date_trunc('month', p_mfg_month)::date BETWEEN c.mfg_from AND c.mfg_to)))
$$;

-- A job line doing a campaign: the campaign's labour operation, paid by the OEM (coverage RECALL), on
-- a job card of a vehicle the campaign covers, opened while the campaign was open; the campaign not
-- yet done on the VIN nor on another line (not declined) of the vehicle's job cards.
CREATE OR REPLACE FUNCTION warranty.check_campaign_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.campaign;
    card record;
BEGIN
    SELECT * INTO c FROM warranty.campaign WHERE campaign_id = NEW.campaign_id;
    IF c.operation_code IS NULL OR NEW.operation_code IS DISTINCT FROM c.operation_code THEN
        RAISE EXCEPTION 'a line of campaign % is its labour operation (%)', c.code, coalesce(c.operation_code, 'none named')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_campaign_operation';
    END IF;
    SELECT j.vehicle_id, (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date AS opened_on, v.vin, va.model_id, v.mfg_month
      INTO card
      FROM service.job_card j
      JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
      JOIN oem.variant va ON va.variant_id = v.variant_id
     WHERE j.job_card_id = NEW.job_card_id;
    IF card.opened_on < c.opened_on OR card.opened_on > coalesce(c.closed_on, 'infinity') THEN
        RAISE EXCEPTION 'campaign % was not open when this job card was opened', c.code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_campaign_open';
    END IF;
    IF NOT warranty.campaign_covers(c.campaign_id, card.vin, card.model_id, card.mfg_month) THEN
        RAISE EXCEPTION 'campaign % does not cover VIN %', c.code, card.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_campaign_covers';
    END IF;
    IF NEW.status <> 'DECLINED'
       AND (EXISTS (SELECT 1 FROM warranty.campaign_done d
                     WHERE d.campaign_id = c.campaign_id AND d.vin = card.vin
                       AND d.job_line_id IS DISTINCT FROM NEW.job_line_id)
            OR EXISTS (SELECT 1 FROM service.job_line l JOIN service.job_card j ON j.job_card_id = l.job_card_id
                        WHERE l.campaign_id = c.campaign_id AND j.vehicle_id = card.vehicle_id
                          AND l.status <> 'DECLINED' AND j.state <> 'CANCELLED'
                          AND l.job_line_id IS DISTINCT FROM NEW.job_line_id)) THEN
        RAISE EXCEPTION 'campaign % is already done or on a job card for VIN %', c.code, card.vin
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'job_line_campaign_once';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_line_campaign_check
    BEFORE INSERT OR UPDATE OF campaign_id, operation_code, coverage, status ON service.job_line
    FOR EACH ROW WHEN (NEW.campaign_id IS NOT NULL) EXECUTE FUNCTION warranty.check_campaign_line();

-- The campaign is done on the VIN when its job line is marked done (that day, by the card's branch,
-- with the card's number); a line taken back from done takes the record back.
CREATE OR REPLACE FUNCTION warranty.campaign_done_by_job_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'DONE' THEN
        INSERT INTO warranty.campaign_done (campaign_id, vin, model_id, mfg_month, done_on, branch_id, job_ref, job_line_id)
        SELECT NEW.campaign_id, v.vin, va.model_id, v.mfg_month, (NEW.done_at AT TIME ZONE 'Asia/Kolkata')::date,
               j.branch_id, j.job_card_no, NEW.job_line_id
          FROM service.job_card j
          JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
          JOIN oem.variant va ON va.variant_id = v.variant_id
         WHERE j.job_card_id = NEW.job_card_id;
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'DONE' THEN
        DELETE FROM warranty.campaign_done WHERE job_line_id = NEW.job_line_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_line_does_campaign AFTER INSERT OR UPDATE OF status ON service.job_line
    FOR EACH ROW WHEN (NEW.campaign_id IS NOT NULL) EXECUTE FUNCTION warranty.campaign_done_by_job_line();

-- An open campaign that covers the job card's vehicle, added to the card as a line: the campaign's
-- labour operation at the labour master's rate, paid by the OEM. Returns the line.
CREATE OR REPLACE FUNCTION warranty.add_campaign_line(p_job_card_id integer, p_campaign_id integer) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    line integer;
BEGIN
    INSERT INTO service.job_line (job_card_id, operation_code, description, qty, unit_price, price_includes_gst,
                                  coverage, campaign_id)
    SELECT p_job_card_id, c.operation_code, left(c.code || ': ' || btrim(c.title), 300), 1,
           coalesce(lo.rate, 0), false, 'RECALL', c.campaign_id
      FROM warranty.campaign c
      LEFT JOIN master.labour_operation lo ON lo.operation_code = c.operation_code
     WHERE c.campaign_id = p_campaign_id
    RETURNING job_line_id INTO line;
    RETURN line;
END
$$;

-- ---------------------------------------------------------------------------
-- Warranty claims to the OEM (sql/0029_warranty_claims.sql)
-- ---------------------------------------------------------------------------

-- The OEM's warranty labour rate per hour on a day (NULL: none in force).
CREATE OR REPLACE FUNCTION warranty.labour_rate_on(p_oem_id integer, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT rate_per_hour FROM warranty.labour_rate
     WHERE oem_id = p_oem_id AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- A new claim: it starts as a draft; the vehicle, VIN, OEM and odometer are the job card's (or, for a
-- recall claimed without a card, the vehicle's); a free-service labour claim comes from a free-service
-- card, a recall claim's campaign is the OEM's and covers the VIN (listed, or the model made within its
-- months), and a recall is claimed for a campaign done on the VIN (or a line of the claim's job card);
-- the pack is one the vehicle has held. Then a number.
-- Once submitted, a claim keeps what it claims; a move of status must be in warranty.claim_transition;
-- a rejected or settled claim changes no more.
CREATE OR REPLACE FUNCTION warranty.check_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card service.job_card;
    veh service.vehicle;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'a claim starts as a draft'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_status_transition';
        END IF;
        IF NEW.job_card_id IS NOT NULL THEN
            SELECT * INTO card FROM service.job_card WHERE job_card_id = NEW.job_card_id;
            IF NOT FOUND OR card.branch_id <> NEW.branch_id THEN
                RAISE EXCEPTION 'job card % is not one of this branch''s', NEW.job_card_id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_job_card_of_branch';
            END IF;
            IF card.state = 'CANCELLED' THEN
                RAISE EXCEPTION 'job card % was cancelled: nothing on it is claimed', card.job_card_no
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_job_card_not_cancelled';
            END IF;
            NEW.vehicle_id := card.vehicle_id;
            NEW.odometer_km := card.odometer_km;
            IF NEW.kind = 'FREE_SERVICE_LABOUR' AND card.service_type <> 'FREE_SERVICE' THEN
                RAISE EXCEPTION 'free-service labour is claimed from a free-service job card'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_free_service_card';
            END IF;
        END IF;
        SELECT * INTO veh FROM service.vehicle WHERE vehicle_id = NEW.vehicle_id;
        NEW.vin := veh.vin;
        SELECT m.oem_id INTO NEW.oem_id FROM oem.variant v JOIN oem.model m USING (model_id)
         WHERE v.variant_id = veh.variant_id;
        IF NEW.odometer_km IS NULL THEN
            NEW.odometer_km := veh.last_odometer_km;
        END IF;
        IF NEW.campaign_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM warranty.campaign c WHERE c.campaign_id = NEW.campaign_id AND c.oem_id = NEW.oem_id) THEN
            RAISE EXCEPTION 'campaign % is not this vehicle''s OEM''s', NEW.campaign_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_campaign_of_oem';
        END IF;
        NEW.claimed_amount := 0;
        NEW.status_changed_at := now();
    ELSE
        IF (NEW.claim_no, NEW.branch_id, NEW.raised_on, NEW.kind, NEW.job_card_id, NEW.vehicle_id, NEW.vin, NEW.oem_id,
            NEW.odometer_km, NEW.idempotency_key, NEW.created_by, NEW.created_at)
           IS DISTINCT FROM
           (OLD.claim_no, OLD.branch_id, OLD.raised_on, OLD.kind, OLD.job_card_id, OLD.vehicle_id, OLD.vin, OLD.oem_id,
            OLD.odometer_km, OLD.idempotency_key, OLD.created_by, OLD.created_at) THEN
            RAISE EXCEPTION 'claim %: its number, kind, job card and vehicle do not change', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_fixed';
        END IF;
        IF OLD.status IN ('REJECTED', 'SETTLED') THEN
            RAISE EXCEPTION 'claim % is %: it changes no more', OLD.claim_no, lower(OLD.status)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_closed_is_final';
        END IF;
        IF OLD.status <> 'DRAFT'
           AND ((NEW.complaint, NEW.cause, NEW.correction, NEW.pack_id, NEW.campaign_id, NEW.claimed_amount,
                 NEW.oem_claim_ref, NEW.submitted_on)
                IS DISTINCT FROM
                (OLD.complaint, OLD.cause, OLD.correction, OLD.pack_id, OLD.campaign_id, OLD.claimed_amount,
                 OLD.oem_claim_ref, OLD.submitted_on)
                OR NEW.status = OLD.status) THEN
            RAISE EXCEPTION 'claim % is submitted: what it claims is fixed', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_submitted_fixed';
        END IF;
        IF OLD.status IN ('APPROVED', 'PARTLY_APPROVED')
           AND (NEW.decided_on, NEW.approved_amount, NEW.decision_reason)
               IS DISTINCT FROM (OLD.decided_on, OLD.approved_amount, OLD.decision_reason) THEN
            RAISE EXCEPTION 'claim %: the OEM''s decision is recorded once', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_submitted_fixed';
        END IF;
        IF NEW.status <> OLD.status THEN
            IF NOT EXISTS (SELECT 1 FROM warranty.claim_transition
                            WHERE from_status = OLD.status AND to_status = NEW.status) THEN
                RAISE EXCEPTION 'a claim does not go from % to %', OLD.status, NEW.status
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_status_transition';
            END IF;
            IF NEW.status = 'SUBMITTED' AND NOT EXISTS (SELECT 1 FROM warranty.claim_line WHERE claim_id = NEW.claim_id) THEN
                RAISE EXCEPTION 'claim % has no lines to submit', OLD.claim_no
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_has_lines';
            END IF;
            IF NEW.status = 'APPROVED' THEN
                NEW.approved_amount := coalesce(NEW.approved_amount, NEW.claimed_amount);
                IF NEW.approved_amount <> NEW.claimed_amount THEN
                    RAISE EXCEPTION 'an approved claim is approved for what it claims (%), else partly', NEW.claimed_amount
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_approved_in_full';
                END IF;
            END IF;
            NEW.status_changed_at := now();
        END IF;
    END IF;
    IF NEW.campaign_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.campaign_id IS DISTINCT FROM OLD.campaign_id) THEN
        SELECT * INTO veh FROM service.vehicle WHERE vehicle_id = NEW.vehicle_id;
        IF NOT warranty.campaign_covers(NEW.campaign_id, NEW.vin,
                                        (SELECT model_id FROM oem.variant WHERE variant_id = veh.variant_id),
                                        veh.mfg_month) THEN
            RAISE EXCEPTION 'campaign % does not cover VIN %', NEW.campaign_id, NEW.vin
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_campaign_covers_vin';
        END IF;
        IF NEW.kind = 'RECALL'
           AND NOT EXISTS (SELECT 1 FROM warranty.campaign_done d WHERE d.campaign_id = NEW.campaign_id AND d.vin = NEW.vin
                              AND d.branch_id = NEW.branch_id)   -- the branch that did the work claims it
           AND NOT EXISTS (SELECT 1 FROM service.job_line l
                            WHERE l.job_card_id = NEW.job_card_id AND l.campaign_id = NEW.campaign_id
                              AND l.status <> 'DECLINED') THEN
            RAISE EXCEPTION 'campaign % is not done on VIN % by this branch: a recall is claimed for work done', NEW.campaign_id, NEW.vin
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_recall_campaign_done';
        END IF;
    END IF;
    IF NEW.pack_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.pack_id IS DISTINCT FROM OLD.pack_id)
       AND NOT EXISTS (SELECT 1 FROM service.vehicle_pack WHERE vehicle_id = NEW.vehicle_id AND pack_id = NEW.pack_id) THEN
        RAISE EXCEPTION 'pack % has not been in this vehicle', NEW.pack_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_pack_of_vehicle';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_check BEFORE INSERT OR UPDATE ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim();

-- The branch's WC series of the day the claim is raised, after claim_check ("claim_n" sorts after it).
CREATE OR REPLACE FUNCTION warranty.number_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.claim_no IS NULL THEN
        NEW.claim_no := master.next_document_no(NEW.branch_id, 'WC', NEW.raised_on);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_take_number BEFORE INSERT ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.number_claim();

-- Every move of a claim (and its creation) in its history.
CREATE OR REPLACE FUNCTION warranty.record_claim_status() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status <> OLD.status THEN
        INSERT INTO warranty.claim_status_change (claim_id, from_status, to_status)
        VALUES (NEW.claim_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER claim_status_recorded AFTER INSERT OR UPDATE OF status ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.record_claim_status();

CREATE OR REPLACE TRIGGER claim_is_never_deleted BEFORE DELETE ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER claim_status_change_is_permanent BEFORE UPDATE OR DELETE ON warranty.claim_status_change
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A claim's lines change only while it is a draft (the return of a failed part to the OEM is recorded
-- later, once). Labour: the operation's standard hours at the OEM's rate on the day the claim was
-- raised; a part: its purchase price. A job card's line is claimed once, from its own card, when the
-- customer does not pay for it. A pack on the line is one the vehicle has held; its serial is the pack's.
CREATE OR REPLACE FUNCTION warranty.check_claim_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.claim;
    jl service.job_line;
    op master.labour_operation;
    pt master.part;
BEGIN
    SELECT * INTO c FROM warranty.claim
     WHERE claim_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
    IF TG_OP = 'UPDATE' AND c.status <> 'DRAFT'
       AND (to_jsonb(NEW) - 'returned_on' - 'return_ref' - 'amount') = (to_jsonb(OLD) - 'returned_on' - 'return_ref' - 'amount') THEN
        IF OLD.returned_on IS NOT NULL THEN
            RAISE EXCEPTION 'the return of % to the OEM is already recorded', OLD.failed_serial
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_once';
        END IF;
        IF NEW.returned_on < c.raised_on THEN
            RAISE EXCEPTION 'a part is returned after its claim was raised'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_after_claim';
        END IF;
        RETURN NEW;
    END IF;
    IF c.claim_id IS NULL OR c.status <> 'DRAFT' OR (TG_OP = 'UPDATE' AND NEW.claim_id <> OLD.claim_id) THEN
        RAISE EXCEPTION 'claim % is submitted: its lines are fixed', c.claim_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_claim_draft';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.returned_on IS NOT NULL THEN
        RAISE EXCEPTION 'a failed part goes back to the OEM once its claim is submitted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_after_claim';
    END IF;
    IF c.kind = 'FREE_SERVICE_LABOUR' AND NEW.kind <> 'LABOUR' THEN
        RAISE EXCEPTION 'a free-service claim is for labour only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_free_service_labour';
    END IF;
    IF NEW.job_line_id IS NOT NULL THEN
        SELECT * INTO jl FROM service.job_line WHERE job_line_id = NEW.job_line_id;
        IF jl.job_card_id IS DISTINCT FROM c.job_card_id OR jl.coverage = 'CUSTOMER' OR jl.status = 'DECLINED'
           OR jl.operation_code IS DISTINCT FROM NEW.operation_code OR jl.part_id IS DISTINCT FROM NEW.part_id THEN
            RAISE EXCEPTION 'job line % is not a covered line of this claim''s job card', NEW.job_line_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_job_line';
        END IF;
    END IF;
    IF NEW.kind = 'LABOUR' THEN
        SELECT * INTO op FROM master.labour_operation WHERE operation_code = NEW.operation_code;
        NEW.hours := op.standard_hours;
        NEW.rate := warranty.labour_rate_on(c.oem_id, c.raised_on);
        IF NEW.rate IS NULL THEN
            RAISE EXCEPTION 'no warranty labour rate of this OEM on %', c.raised_on
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_oem_rate';
        END IF;
        NEW.description := coalesce(nullif(btrim(NEW.description), ''), op.name);
    ELSE
        SELECT * INTO pt FROM master.part WHERE part_id = NEW.part_id;
        NEW.unit_price := pt.purchase_price;
        NEW.description := coalesce(nullif(btrim(NEW.description), ''), pt.name);
        IF NEW.failed_pack_id IS NOT NULL THEN
            NEW.failed_serial := (SELECT serial FROM inventory.battery_pack WHERE pack_id = NEW.failed_pack_id);
        END IF;
        IF NEW.replacement_pack_id IS NOT NULL THEN
            NEW.replacement_serial := (SELECT serial FROM inventory.battery_pack WHERE pack_id = NEW.replacement_pack_id);
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(ARRAY[NEW.failed_pack_id, NEW.replacement_pack_id]) p (pack_id)
                    WHERE p.pack_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM service.vehicle_pack vp
                                       WHERE vp.vehicle_id = c.vehicle_id AND vp.pack_id = p.pack_id)) THEN
            RAISE EXCEPTION 'a pack on the claim has been in the claim''s vehicle'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_pack_of_vehicle';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_line_check BEFORE INSERT OR UPDATE OR DELETE ON warranty.claim_line
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim_line();

-- The claim's amount is the sum of its lines.
CREATE OR REPLACE FUNCTION warranty.keep_claimed_amount() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    id integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
BEGIN
    UPDATE warranty.claim c
       SET claimed_amount = (SELECT coalesce(sum(amount), 0) FROM warranty.claim_line l WHERE l.claim_id = id)
     WHERE c.claim_id = id AND c.status = 'DRAFT';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER claim_line_amount_kept AFTER INSERT OR DELETE OR UPDATE OF qty, hours, rate, unit_price
    ON warranty.claim_line FOR EACH ROW EXECUTE FUNCTION warranty.keep_claimed_amount();

-- Evidence is chosen while the claim is a draft, from the claim's vehicle: its packs' readings and
-- the photos of its job cards.
CREATE OR REPLACE FUNCTION warranty.check_claim_evidence() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.claim;
BEGIN
    SELECT * INTO c FROM warranty.claim WHERE claim_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
    IF c.claim_id IS NULL OR c.status <> 'DRAFT' OR TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'claim % is submitted: its evidence is fixed', c.claim_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_evidence_claim_draft';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM service.battery_reading r JOIN service.job_card j USING (job_card_id)
                    WHERE r.reading_id = NEW.reading_id AND j.vehicle_id = c.vehicle_id)
       AND NOT EXISTS (SELECT 1 FROM service.job_photo p JOIN service.job_card j USING (job_card_id)
                        WHERE p.photo_id = NEW.photo_id AND j.vehicle_id = c.vehicle_id) THEN
        RAISE EXCEPTION 'evidence is the claim''s vehicle''s own'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_evidence_of_vehicle';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_evidence_check BEFORE INSERT OR UPDATE OR DELETE ON warranty.claim_evidence
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim_evidence();

-- A battery pack swapped under warranty on an open job card, on a day: the old pack (fitted in the
-- card's vehicle now) comes out and the pack with the new serial (registered when first seen, with
-- the variant's chemistry and kWh) goes in, through the unit's battery history for a vehicle sold
-- here and service.pack_fitment for one sold elsewhere (whose rules hold: one vehicle at a time). The
-- old pack is the failed part of the card's BATTERY claim (the draft one, else a new one with the
-- given key), priced as the part p_part_id. The new pack's cover follows the replacement rule: it is
-- fitted the day the old one is removed (service.api's pack history links them so).
-- Returns the claim.
CREATE OR REPLACE FUNCTION warranty.swap_pack(p_job_card_id integer, p_old_pack_id integer, p_new_serial text,
                                              p_part_id integer, p_on date, p_key uuid) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    card service.job_card;
    veh service.vehicle;
    old_serial text;
    new_pack integer;
    note text;
    claim integer;
BEGIN
    SELECT * INTO card FROM service.job_card WHERE job_card_id = p_job_card_id;
    IF NOT FOUND OR card.state IN ('DELIVERED', 'CANCELLED') THEN
        RAISE EXCEPTION 'a pack is swapped on an open job card'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_card_open';
    END IF;
    SELECT * INTO veh FROM service.vehicle WHERE vehicle_id = card.vehicle_id FOR UPDATE;
    SELECT serial INTO old_serial FROM service.vehicle_pack
     WHERE vehicle_id = veh.vehicle_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
    IF old_serial IS NULL THEN
        RAISE EXCEPTION 'pack % is not in this vehicle now', p_old_pack_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_old_pack_fitted';
    END IF;
    IF p_new_serial = old_serial THEN
        RAISE EXCEPTION 'the new pack is another pack than the failed one'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_same_pack';
    END IF;
    SELECT pack_id INTO new_pack FROM inventory.battery_pack WHERE serial = p_new_serial FOR UPDATE;
    IF new_pack IS NULL THEN
        INSERT INTO inventory.battery_pack (serial, chemistry, kwh)
        SELECT p_new_serial, v.battery_chemistry, v.battery_kwh FROM oem.variant v WHERE v.variant_id = veh.variant_id
        RETURNING pack_id INTO new_pack;
    END IF;
    note := 'Warranty replacement of ' || old_serial || ' on job card ' || card.job_card_no;
    IF veh.unit_id IS NOT NULL THEN
        UPDATE inventory.battery_fitment SET removed_on = p_on
         WHERE unit_id = veh.unit_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
        INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
        VALUES (new_pack, veh.unit_id, p_on, note);
    ELSE
        UPDATE service.pack_fitment SET removed_on = p_on
         WHERE vehicle_id = veh.vehicle_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
        INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
        VALUES (new_pack, veh.vehicle_id, p_on, note);
    END IF;
    SELECT claim_id INTO claim FROM warranty.claim
     WHERE job_card_id = card.job_card_id AND kind = 'BATTERY' AND status = 'DRAFT'
     ORDER BY claim_id LIMIT 1;
    IF claim IS NULL THEN
        INSERT INTO warranty.claim (branch_id, kind, job_card_id, vehicle_id, pack_id, complaint, raised_on,
                                    idempotency_key)
        VALUES (card.branch_id, 'BATTERY', card.job_card_id, veh.vehicle_id, p_old_pack_id, left(card.complaints, 1000),
                p_on, p_key)
        RETURNING claim_id INTO claim;
    END IF;
    INSERT INTO warranty.claim_line (claim_id, kind, part_id, qty, unit_price, description, failed_pack_id,
                                     replacement_pack_id)
    VALUES (claim, 'PART', p_part_id, 1, 0, 'Battery pack ' || old_serial || ' replaced by ' || p_new_serial,
            p_old_pack_id, new_pack);
    RETURN claim;
END
$$;

-- ---------------------------------------------------------------------------
-- A plan sold with the vehicle (sql/0032_plan_invoice_line.sql)
-- ---------------------------------------------------------------------------

-- The booking's extended-warranty charge names a plan under the plan's SAC, made for the booked model (the
-- charges change only until the invoice: sales' booking_terms_fixed; the invoice line the charge becomes
-- checks the rest: warranty.check_plan_sale).
CREATE OR REPLACE FUNCTION warranty.check_booking_plan() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    p warranty.plan;
    bk record;
BEGIN
    IF NEW.plan_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT va.model_id INTO bk
      FROM sales.booking b JOIN oem.variant va ON va.variant_id = b.variant_id
     WHERE b.booking_id = NEW.booking_id;
    SELECT * INTO p FROM warranty.plan WHERE plan_id = NEW.plan_id;
    IF NOT EXISTS (SELECT 1 FROM sales.onroad_item o WHERE o.item_code = NEW.item_code AND o.kind = 'EXTENDED_WARRANTY')
       OR NEW.hsn_code IS DISTINCT FROM p.sac_code THEN
        RAISE EXCEPTION 'plan % is named on an extended-warranty charge under SAC %', p.name, p.sac_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_item_plan_charge';
    END IF;
    IF NOT p.is_active
       OR NOT EXISTS (SELECT 1 FROM oem.model m WHERE m.model_id = bk.model_id AND m.oem_id = p.oem_id)
       OR (EXISTS (SELECT 1 FROM warranty.plan_model pm WHERE pm.plan_id = p.plan_id)
           AND NOT EXISTS (SELECT 1 FROM warranty.plan_model pm
                            WHERE pm.plan_id = p.plan_id AND pm.model_id = bk.model_id)) THEN
        RAISE EXCEPTION 'plan % is not sold for the booked model', p.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_item_plan_model';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER booking_item_plan_check BEFORE INSERT OR UPDATE OF plan_id ON sales.booking_item
    FOR EACH ROW EXECUTE FUNCTION warranty.check_booking_plan();
