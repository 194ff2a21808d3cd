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
-- ('BATTERY') cover: at most one per part (warranty.check_plan_sale).
CREATE OR REPLACE FUNCTION warranty.plan_for(p_vin text, p_part text)
RETURNS TABLE (plan_sale_id integer, extra_years integer, extra_km integer)
LANGUAGE sql STABLE
AS $$
    SELECT s.plan_sale_id,
           CASE p_part WHEN 'VEHICLE' THEN p.vehicle_extra_years ELSE p.battery_extra_years END,
           CASE p_part WHEN 'VEHICLE' THEN p.vehicle_extra_km ELSE p.battery_extra_km END
      FROM warranty.plan_sale s JOIN warranty.plan p ON p.plan_id = s.plan_id
     WHERE s.vin = p_vin
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
-- bought within its months of the vehicle's sale, and no other plan of the VIN lengthening the
-- same part (vehicle or battery).
CREATE OR REPLACE FUNCTION warranty.check_plan_sale() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    p warranty.plan;
BEGIN
    SELECT * INTO p FROM warranty.plan WHERE plan_id = NEW.plan_id;
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
                WHERE s.vin = NEW.vin AND s.plan_sale_id IS DISTINCT FROM NEW.plan_sale_id
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
