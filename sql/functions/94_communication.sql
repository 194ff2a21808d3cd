-- The communication schema's functions and triggers as they are now: init-db runs this file again
-- whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of them
-- is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live in
-- PostgreSQL").
--
-- The reminder engine: communication.due_events says what is due from the data (service by date
-- and by km projected from the vehicle's average daily running, insurance own damage and third
-- party, vehicle and battery warranty, a free service about to lapse, follow-ups, a booking's
-- promised delivery, open recalls, birthdays); communication.run_reminders makes each reminder
-- once per (rule, subject, due date) and queues its message in the outbox.

-- ---------------------------------------------------------------------------
-- Templates
-- ---------------------------------------------------------------------------

-- The placeholders a template may name, as {customer_name}.
CREATE OR REPLACE FUNCTION communication.placeholder_names() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['customer_name', 'vehicle_no', 'vin', 'model', 'due_date', 'due_km', 'branch_name',
                 'branch_phone', 'policy_no', 'cover', 'campaign_title', 'booking_no', 'free_service_no']
$$;

-- What is wrong with a template's text: the unknown placeholder names, and '{' for a stray brace
-- ("{customer_name" or "due}"). Empty: the text is fine (the template_placeholders CHECK).
CREATE OR REPLACE FUNCTION communication.template_problems(p_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT name ORDER BY name), '{}')
      FROM (SELECT m[1] AS name
              FROM regexp_matches(coalesce(p_text, ''), '\{([^{}]*)\}', 'g') AS m
             WHERE NOT m[1] = ANY (communication.placeholder_names())
            UNION ALL
            SELECT '{' WHERE regexp_replace(coalesce(p_text, ''), '\{[^{}]*\}', '', 'g') ~ '[{}]') p
$$;

-- The text with each placeholder replaced by its value in p_facts (a missing value: empty).
CREATE OR REPLACE FUNCTION communication.fill(p_text text, p_facts jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    name text;
    result text := p_text;
BEGIN
    IF p_text IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH name IN ARRAY communication.placeholder_names()
    LOOP
        IF position('{' || name || '}' IN result) > 0 THEN
            result := replace(result, '{' || name || '}', coalesce(p_facts ->> name, ''));
        END IF;
    END LOOP;
    RETURN result;
END
$$;

-- The values of the placeholders in the order they appear (a WhatsApp template's body parameters).
CREATE OR REPLACE FUNCTION communication.body_params(p_text text, p_facts jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT coalesce(jsonb_agg(coalesce(p_facts ->> m.v[1], '') ORDER BY m.n), '[]'::jsonb)
      FROM regexp_matches(coalesce(p_text, ''), '\{([a-z_]+)\}', 'g') WITH ORDINALITY AS m (v, n)
$$;

-- ---------------------------------------------------------------------------
-- When a message may go: not in its rule's quiet hours, and a promotional one only inside the
-- promotional hours (IST). The earliest moment from p_at that satisfies both.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.next_send_time(p_at timestamptz, p_quiet_from time, p_quiet_to time,
                                                        p_promotional boolean, p_promo_from time, p_promo_to time)
RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    local timestamp := p_at AT TIME ZONE 'Asia/Kolkata';
    t time;
    moved boolean;
BEGIN
    FOR i IN 1..4 LOOP
        moved := false;
        t := local::time;
        IF p_promotional AND NOT (t >= p_promo_from AND t < p_promo_to) THEN
            local := CASE WHEN t < p_promo_from THEN local::date + p_promo_from
                          ELSE local::date + 1 + p_promo_from END;
            moved := true;
        END IF;
        t := local::time;
        IF p_quiet_from IS NOT NULL THEN
            IF p_quiet_from < p_quiet_to AND t >= p_quiet_from AND t < p_quiet_to THEN
                local := local::date + p_quiet_to;
                moved := true;
            ELSIF p_quiet_from > p_quiet_to AND (t >= p_quiet_from OR t < p_quiet_to) THEN
                local := CASE WHEN t >= p_quiet_from THEN local::date + 1 + p_quiet_to ELSE local::date + p_quiet_to END;
                moved := true;
            END IF;
        END IF;
        EXIT WHEN NOT moved;
    END LOOP;
    RETURN local AT TIME ZONE 'Asia/Kolkata';
END
$$;

-- Whether a customer may get a message by the channel: not if they opted out of it; WhatsApp and
-- promotional messages only after an opt-in. Someone who is no customer yet (a lead) has
-- given no consent: transactional calls and messages only.
CREATE OR REPLACE FUNCTION communication.may_send(p_customer_id integer, p_channel text, p_promotional boolean)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN p_channel = 'WHATSAPP' OR p_promotional THEN coalesce(bool_or(c.opted_in), false)
                ELSE coalesce(bool_and(c.opted_in), true) END
      FROM communication.consent c
     WHERE c.customer_id = p_customer_id AND c.channel = p_channel
$$;

-- ---------------------------------------------------------------------------
-- Follow-ups due between two days. The one place the engine and the staff bell read follow-ups:
-- the follow-up dates of the CRM's open leads (crm.lead, not yet booked or lost).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.crm_follow_ups(p_from date, p_to date)
RETURNS TABLE (follow_up_id integer, branch_id integer, customer_id integer, name text, mobile text, email text,
               due_on date, staff_id integer)
LANGUAGE sql STABLE
AS $$
    SELECT l.lead_id, l.branch_id, l.customer_id, l.name, l.mobile, l.email, l.follow_up_on, l.salesperson_id
      FROM crm.lead l
     WHERE l.follow_up_on BETWEEN p_from AND p_to AND l.status NOT IN ('BOOKED', 'LOST')
$$;

-- ---------------------------------------------------------------------------
-- What is due from p_on to p_on + p_horizon days, for the events asked. One row per (event,
-- subject, detail, due date) with whom to tell and the template's facts.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.due_events(p_on date, p_horizon integer, p_events text[])
RETURNS TABLE (event text, subject_kind text, subject_id integer, detail_id integer, due_on date, branch_id integer,
               customer_id integer, name text, mobile text, email text, facts jsonb)
LANGUAGE sql STABLE
AS $$
    WITH window_ AS (SELECT p_on AS first_day, p_on + p_horizon AS last_day),
    vehicle AS (
        SELECT v.vehicle_id, v.vin, v.variant_id, v.sale_date, v.branch_id, v.customer_id, v.mfg_month,
               coalesce(v.last_odometer_km, 0) AS km, coalesce(v.last_odometer_on, v.sale_date) AS km_on,
               v.next_service_due_on, v.next_service_due_km, v.next_free_service_no,
               va.model_id, va.vehicle_warranty_years, va.battery_warranty_years, va.battery_warranty_km,
               c.name, c.mobile, c.email,
               jsonb_build_object('customer_name', c.name, 'vehicle_no', coalesce(v.registration_no, v.vin),
                                  'vin', v.vin, 'model', m.name || ' ' || va.name,
                                  'branch_name', coalesce(b.trade_name, b.legal_name), 'branch_phone', b.phone) AS facts
          FROM service.vehicle v
          JOIN oem.variant va ON va.variant_id = v.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          JOIN master.customer c ON c.customer_id = v.customer_id
          JOIN master.branch b ON b.branch_id = v.branch_id
    ),
    service_due AS (
        SELECT v.*, least(v.next_service_due_on,
                          CASE WHEN v.km_on > v.sale_date AND v.km > 0 AND v.next_service_due_km IS NOT NULL
                               THEN v.km_on + greatest(ceil((v.next_service_due_km - v.km)
                                                            / (v.km::numeric / (v.km_on - v.sale_date))), 0)::integer
                          END) AS due
          FROM vehicle v
         WHERE 'SERVICE_DUE' = ANY (p_events) AND v.next_service_due_on >= p_on
    ),
    warranty_vehicle AS (
        SELECT v.*, wc.covered, wc.ends_on, wc.ends_km
          FROM vehicle v
          CROSS JOIN LATERAL warranty.vehicle_coverage(v.vin, v.variant_id, v.sale_date, p_on, v.km) wc
         WHERE 'WARRANTY_VEHICLE' = ANY (p_events)
           AND (warranty.term_end(v.sale_date, v.vehicle_warranty_years) BETWEEN p_on AND p_on + p_horizon
                OR EXISTS (SELECT 1 FROM warranty.plan_sale s WHERE s.vin = v.vin))
    ),
    -- The battery: a vehicle whose pack was replaced (a pack fitted after the sale on the day another
    -- came out, as service.api's pack history links them) is reminded of the cover of each pack in it
    -- now, judged by warranty.battery_coverage over its pack history: the replacement rule in force
    -- on the fitment day says whether the fitted pack takes the rest of the term it replaced
    -- (REMAINING) or a term of its own from its fitment date (FRESH). Any other vehicle: the
    -- variant's term from the sale, lengthened by an extended plan.
    replaced AS (
        SELECT v.vehicle_id,
               jsonb_agg(jsonb_build_object(
                   'pack_id', p.pack_id, 'serial', p.serial, 'fitted_on', p.fitted_on,
                   'replaced_pack_id', CASE WHEN p.fitted_on > v.sale_date THEN (
                       SELECT min(o.pack_id) FROM service.vehicle_pack o
                        WHERE o.vehicle_id = v.vehicle_id AND o.removed_on = p.fitted_on AND o.pack_id <> p.pack_id)
                   END) ORDER BY p.fitted_on, p.pack_id) AS packs,
               array_agg(p.pack_id) FILTER (WHERE p.removed_on IS NULL) AS fitted_now
          FROM vehicle v
          JOIN service.vehicle_pack p ON p.vehicle_id = v.vehicle_id
         WHERE 'WARRANTY_BATTERY' = ANY (p_events)
           AND EXISTS (SELECT 1 FROM service.vehicle_pack n JOIN service.vehicle_pack o
                                  ON o.vehicle_id = n.vehicle_id AND o.removed_on = n.fitted_on AND o.pack_id <> n.pack_id
                        WHERE n.vehicle_id = v.vehicle_id AND n.fitted_on > v.sale_date)
         GROUP BY v.vehicle_id
    ),
    warranty_battery AS (
        SELECT v.*, wc.covered, wc.ends_on, wc.ends_km
          FROM vehicle v
          LEFT JOIN LATERAL warranty.plan_for(v.vin, 'BATTERY') x ON true
          CROSS JOIN LATERAL warranty.judge(v.sale_date, v.battery_warranty_years + coalesce(x.extra_years, 0), 0,
                                            v.battery_warranty_km + coalesce(x.extra_km, 0), p_on, v.km,
                                            x.plan_sale_id) wc
         WHERE 'WARRANTY_BATTERY' = ANY (p_events)
           AND (warranty.term_end(v.sale_date, v.battery_warranty_years) BETWEEN p_on AND p_on + p_horizon
                OR EXISTS (SELECT 1 FROM warranty.plan_sale s WHERE s.vin = v.vin))
           AND NOT EXISTS (SELECT 1 FROM replaced r WHERE r.vehicle_id = v.vehicle_id)
        UNION ALL
        SELECT DISTINCT ON (v.vehicle_id, pc.ends_on) v.*, pc.covered, pc.ends_on, pc.ends_km
          FROM replaced r
          JOIN vehicle v ON v.vehicle_id = r.vehicle_id
          CROSS JOIN LATERAL warranty.battery_coverage(v.vin, v.variant_id, v.sale_date, p_on, v.km, r.packs) pc
         WHERE pc.pack_id = ANY (r.fitted_now) AND pc.covered
    ),
    free_service AS (
        SELECT v.*, f.service_no, f.due_on AS lapses_on, f.due_km AS lapses_km
          FROM vehicle v
          CROSS JOIN LATERAL warranty.free_services(
                v.model_id, v.sale_date, p_on, v.km,
                ARRAY(SELECT j.free_service_no FROM service.job_card j
                       WHERE j.vehicle_id = v.vehicle_id AND j.service_type = 'FREE_SERVICE'
                         AND j.state <> 'CANCELLED')) f
         WHERE 'FREE_SERVICE_LAPSE' = ANY (p_events)
           AND v.sale_date >= p_on - make_interval(months => (SELECT coalesce(max(fs.due_months), 0)
                                                                FROM oem.free_service fs
                                                               WHERE fs.model_id = v.model_id))
           AND f.state = 'DUE' AND f.due_on BETWEEN p_on AND p_on + p_horizon
    ),
    recall AS (
        SELECT v.*, c.campaign_id, c.title, c.opened_on
          FROM warranty.campaign c
          JOIN vehicle v ON (c.match_by = 'VIN_LIST' AND EXISTS (
                                 SELECT 1 FROM warranty.campaign_vin l WHERE l.campaign_id = c.campaign_id AND l.vin = v.vin))
                         OR (c.match_by = 'MFG_RANGE' AND v.model_id = c.model_id
                             AND date_trunc('month', v.mfg_month)::date BETWEEN c.mfg_from AND c.mfg_to)
         WHERE 'RECALL' = ANY (p_events)
           AND c.opened_on <= p_on AND (c.closed_on IS NULL OR c.closed_on >= p_on)
           AND NOT EXISTS (SELECT 1 FROM warranty.campaign_done d WHERE d.campaign_id = c.campaign_id AND d.vin = v.vin)
    ),
    policy AS (
        SELECT p.policy_id, p.branch_id, p.customer_id, c.name, c.mobile, c.email, cover.kind, cover.policy_no,
               cover.ends_on,
               jsonb_build_object('customer_name', c.name, 'vehicle_no', coalesce(sv.registration_no, u.vin),
                                  'vin', u.vin, 'model', m.name || ' ' || va.name, 'policy_no', cover.policy_no,
                                  'cover', cover.label, 'branch_name', coalesce(b.trade_name, b.legal_name),
                                  'branch_phone', b.phone) AS facts
          FROM insurance.policy p
          CROSS JOIN LATERAL (VALUES ('INSURANCE_OD', p.od_policy_no, p.od_to, 'own damage'),
                                     ('INSURANCE_TP', p.tp_policy_no, p.tp_to, 'third party'))
                             AS cover (kind, policy_no, ends_on, label)
          JOIN master.customer c ON c.customer_id = p.customer_id
          JOIN master.branch b ON b.branch_id = p.branch_id
          JOIN inventory.vehicle_unit u ON u.unit_id = p.unit_id
          JOIN oem.variant va ON va.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          LEFT JOIN service.vehicle sv ON sv.unit_id = p.unit_id
         WHERE cover.kind = ANY (p_events) AND cover.ends_on BETWEEN p_on AND p_on + p_horizon
           AND (p.od_to BETWEEN p_on AND p_on + p_horizon OR p.tp_to BETWEEN p_on AND p_on + p_horizon)
           AND NOT EXISTS (   -- renewed: a later policy of the unit covers beyond this one
                 SELECT 1 FROM insurance.policy q
                  WHERE q.unit_id = p.unit_id AND q.policy_id <> p.policy_id
                    AND CASE cover.kind WHEN 'INSURANCE_OD' THEN q.od_to ELSE q.tp_to END > cover.ends_on)
    )
    SELECT 'SERVICE_DUE', 'VEHICLE', s.vehicle_id, 0, s.due, s.branch_id, s.customer_id, s.name, s.mobile, s.email,
           s.facts || jsonb_build_object('due_date', to_char(s.due, 'DD-MM-YYYY'),
                                         'due_km', s.next_service_due_km::text,
                                         'free_service_no', s.next_free_service_no::text)
      FROM service_due s WHERE s.due BETWEEN p_on AND p_on + p_horizon
    UNION ALL
    SELECT 'WARRANTY_VEHICLE', 'VEHICLE', w.vehicle_id, 0, w.ends_on, w.branch_id, w.customer_id, w.name, w.mobile,
           w.email, w.facts || jsonb_build_object('due_date', to_char(w.ends_on, 'DD-MM-YYYY'),
                                                  'due_km', w.ends_km::text)
      FROM warranty_vehicle w WHERE w.covered AND w.ends_on BETWEEN p_on AND p_on + p_horizon
    UNION ALL
    SELECT 'WARRANTY_BATTERY', 'VEHICLE', w.vehicle_id, 0, w.ends_on, w.branch_id, w.customer_id, w.name, w.mobile,
           w.email, w.facts || jsonb_build_object('due_date', to_char(w.ends_on, 'DD-MM-YYYY'),
                                                  'due_km', w.ends_km::text)
      FROM warranty_battery w WHERE w.covered AND w.ends_on BETWEEN p_on AND p_on + p_horizon
    UNION ALL
    SELECT 'FREE_SERVICE_LAPSE', 'VEHICLE', f.vehicle_id, f.service_no, f.lapses_on, f.branch_id, f.customer_id,
           f.name, f.mobile, f.email,
           f.facts || jsonb_build_object('due_date', to_char(f.lapses_on, 'DD-MM-YYYY'), 'due_km', f.lapses_km::text,
                                         'free_service_no', f.service_no::text)
      FROM free_service f
    UNION ALL
    SELECT 'RECALL', 'VEHICLE', r.vehicle_id, r.campaign_id, r.opened_on, r.branch_id, r.customer_id, r.name, r.mobile,
           r.email, r.facts || jsonb_build_object('campaign_title', r.title, 'due_date', to_char(p_on, 'DD-MM-YYYY'))
      FROM recall r
    UNION ALL
    SELECT p.kind, 'POLICY', p.policy_id, 0, p.ends_on, p.branch_id, p.customer_id, p.name, p.mobile, p.email,
           p.facts || jsonb_build_object('due_date', to_char(p.ends_on, 'DD-MM-YYYY'))
      FROM policy p
    UNION ALL
    SELECT 'DELIVERY_PROMISED', 'BOOKING', bk.booking_id, 0, bk.expected_delivery, bk.branch_id, bk.customer_id,
           c.name, c.mobile, c.email,
           jsonb_build_object('customer_name', c.name, 'booking_no', bk.booking_no, 'model', m.name || ' ' || va.name,
                              'due_date', to_char(bk.expected_delivery, 'DD-MM-YYYY'),
                              'branch_name', coalesce(b.trade_name, b.legal_name), 'branch_phone', b.phone)
      FROM sales.booking bk
      JOIN master.customer c ON c.customer_id = bk.customer_id
      JOIN master.branch b ON b.branch_id = bk.branch_id
      JOIN oem.variant va ON va.variant_id = bk.variant_id
      JOIN oem.model m ON m.model_id = va.model_id
     WHERE 'DELIVERY_PROMISED' = ANY (p_events) AND bk.stage IN ('BOOKED', 'ALLOTTED', 'INVOICED')
       AND bk.expected_delivery BETWEEN p_on AND p_on + p_horizon
    UNION ALL
    SELECT 'FOLLOW_UP', 'ENQUIRY', f.follow_up_id, 0, f.due_on, f.branch_id, f.customer_id, f.name, f.mobile, f.email,
           jsonb_build_object('customer_name', f.name, 'due_date', to_char(f.due_on, 'DD-MM-YYYY'),
                              'branch_name', coalesce(b.trade_name, b.legal_name), 'branch_phone', b.phone)
      FROM communication.crm_follow_ups(p_on, p_on + p_horizon) f
      JOIN master.branch b ON b.branch_id = f.branch_id
     WHERE 'FOLLOW_UP' = ANY (p_events)
    UNION ALL
    SELECT 'BIRTHDAY', 'CUSTOMER', c.customer_id, 0, bd.on_day, c.branch_id, c.customer_id, c.name, c.mobile, c.email,
           jsonb_build_object('customer_name', c.name, 'due_date', to_char(bd.on_day, 'DD-MM-YYYY'),
                              'branch_name', coalesce(b.trade_name, b.legal_name), 'branch_phone', b.phone)
      FROM master.customer c
      JOIN master.branch b ON b.branch_id = c.branch_id
      CROSS JOIN LATERAL (
            SELECT min(d) AS on_day
              FROM (SELECT make_date(y, extract(month FROM c.date_of_birth)::integer,
                                     CASE WHEN to_char(c.date_of_birth, 'MM-DD') = '02-29'
                                               AND NOT (y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0))
                                          THEN 28 ELSE extract(day FROM c.date_of_birth)::integer END) AS d
                      FROM (VALUES (extract(year FROM p_on)::integer), (extract(year FROM p_on)::integer + 1)) AS yy (y)) dd
             WHERE d >= p_on) bd
     WHERE 'BIRTHDAY' = ANY (p_events) AND c.date_of_birth IS NOT NULL AND c.kind = 'INDIVIDUAL'
       AND bd.on_day <= p_on + p_horizon
$$;

-- ---------------------------------------------------------------------------
-- One run on p_on at p_now: every active rule's reminders made once (ON CONFLICT DO NOTHING on
-- reminder_once: a second run, or one at the same moment, which waits for the first to commit,
-- makes none again) and each one that may go queued in the outbox with its text filled in. A
-- reminder is made from days_before the due date up to the date itself (a run missed on a day is
-- made up the next); a recall from the day its campaign opens while it is open.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.run_reminders(p_on date, p_now timestamptz)
RETURNS TABLE (rule_id integer, event text, made integer, queued integer)
LANGUAGE sql VOLATILE
AS $$
    WITH s AS (SELECT * FROM communication.setting WHERE setting_id = 1),
    r AS (SELECT * FROM communication.rule WHERE is_active),
    e AS (SELECT * FROM communication.due_events(p_on, (SELECT coalesce(max(days_before), 0) FROM r)::integer,
                                                 ARRAY(SELECT DISTINCT event FROM r))),
    cand AS (
        SELECT r.rule_id, r.channel, r.promotional, r.quiet_from, r.quiet_to, e.subject_kind, e.subject_id,
               e.detail_id, e.due_on, e.branch_id, e.customer_id, e.name, e.facts,
               CASE WHEN r.channel = 'EMAIL' THEN CASE WHEN master.is_email(e.email) THEN e.email END
                    ELSE CASE WHEN master.is_mobile(e.mobile) THEN e.mobile END END AS address,
               communication.may_send(e.customer_id, r.channel, r.promotional) AS allowed,
               t.template_id, t.subject, t.body
          FROM r
          JOIN e ON e.event = r.event AND e.due_on <= p_on + r.days_before AND (e.due_on >= p_on OR r.event = 'RECALL')
          LEFT JOIN communication.customer_language cl ON cl.customer_id = e.customer_id
          LEFT JOIN LATERAL (SELECT t.template_id, t.subject, t.body FROM communication.template t
                              WHERE t.code = r.template_code AND t.channel = r.channel
                                AND t.language IN (coalesce(cl.language, 'en'), 'en')
                              ORDER BY t.language = 'en' LIMIT 1) t ON true
    ),
    ins AS (
        INSERT INTO communication.reminder AS m (rule_id, subject_kind, subject_id, detail_id, due_on, branch_id,
                                                 customer_id, made_on, made_at, outcome)
        SELECT c.rule_id, c.subject_kind, c.subject_id, c.detail_id, c.due_on, c.branch_id, c.customer_id, p_on, p_now,
               CASE WHEN NOT c.allowed THEN 'NO_CONSENT' WHEN c.address IS NULL THEN 'NO_ADDRESS'
                    WHEN c.template_id IS NULL THEN 'NO_TEMPLATE' ELSE 'QUEUED' END
          FROM cand c
        ON CONFLICT ON CONSTRAINT reminder_once DO NOTHING
        RETURNING m.reminder_id, m.rule_id, m.subject_kind, m.subject_id, m.detail_id, m.due_on, m.outcome
    ),
    queued AS (
        INSERT INTO communication.outbox AS o (reminder_id, branch_id, customer_id, channel, to_name, to_address,
                                               template_id, subject, body, params, promotional, quiet_from, quiet_to,
                                               next_attempt_at, created_at)
        SELECT i.reminder_id, c.branch_id, c.customer_id, c.channel, c.name, c.address, c.template_id,
               communication.fill(c.subject, c.facts), communication.fill(c.body, c.facts),
               communication.body_params(c.body, c.facts), c.promotional, c.quiet_from, c.quiet_to,
               communication.next_send_time(p_now, c.quiet_from, c.quiet_to, c.promotional, s.promo_from, s.promo_to),
               p_now
          FROM ins i
          JOIN cand c ON c.rule_id = i.rule_id AND c.subject_kind = i.subject_kind AND c.subject_id = i.subject_id
                     AND c.detail_id = i.detail_id AND c.due_on = i.due_on
          CROSS JOIN s
         WHERE i.outcome = 'QUEUED'
        RETURNING o.reminder_id
    )
    SELECT r.rule_id, r.event, count(i.reminder_id)::integer, count(q.reminder_id)::integer
      FROM r
      LEFT JOIN ins i ON i.rule_id = r.rule_id
      LEFT JOIN queued q ON q.reminder_id = i.reminder_id
     GROUP BY r.rule_id, r.event
     ORDER BY r.rule_id
$$;

-- ---------------------------------------------------------------------------
-- A rule names a template that exists in English (the language every customer can be sent).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.check_rule() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM communication.template t
                    WHERE t.code = NEW.template_code AND t.channel = NEW.channel AND t.language = 'en') THEN
        RAISE EXCEPTION 'rule % needs an English % template named %', NEW.event, NEW.channel, NEW.template_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'rule_template';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER rule_template BEFORE INSERT OR UPDATE ON communication.rule
    FOR EACH ROW EXECUTE FUNCTION communication.check_rule();

-- A message's recipient and words are fixed once queued; a delivered or given-up message is final.
CREATE OR REPLACE FUNCTION communication.check_outbox_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.status IN ('DELIVERED', 'GIVEN_UP') THEN
        RAISE EXCEPTION 'message % is % and changes no more', OLD.message_id, OLD.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'outbox_final';
    END IF;
    IF (NEW.to_address, NEW.body, NEW.channel, NEW.template_id, coalesce(NEW.subject, ''))
       IS DISTINCT FROM (OLD.to_address, OLD.body, OLD.channel, OLD.template_id, coalesce(OLD.subject, '')) THEN
        RAISE EXCEPTION 'a queued message''s recipient and words do not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'outbox_fixed';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER outbox_change BEFORE UPDATE ON communication.outbox
    FOR EACH ROW EXECUTE FUNCTION communication.check_outbox_change();

-- A template's last change, for the list.
CREATE OR REPLACE FUNCTION communication.template_touched() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER template_touched BEFORE UPDATE ON communication.template
    FOR EACH ROW EXECUTE FUNCTION communication.template_touched();

-- ---------------------------------------------------------------------------
-- A provider's delivery report for the message it numbered p_provider_id on p_channel (the SMS
-- provider's callback, the WhatsApp Cloud API's status notification; webapp/communication/hooks.py
-- reads them and words the failure). DELIVERED and READ make a SENT message DELIVERED (also one
-- tried again but not yet re-sent: the first sending arrived after all). FAILED: a SENT message was
-- not delivered; a reason that may pass (p_may_pass: a phone switched off) makes it FAILED, sent
-- again after the outbox's wait until its last attempt; any other (a DLT rejection, a number that
-- does not exist) gives up. A report never moves a message back: a SENT report changes nothing, a
-- DELIVERED or GIVEN_UP message is final (communication.check_outbox_change holds it too), so reports
-- arriving late or out of order are harmless. Returns the message's status after the report, or
-- NULL when no message has that id (a report for another system's message).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.delivery_report(p_channel text, p_provider_id text, p_status text,
                                                         p_reason text, p_may_pass boolean, p_at timestamptz)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    m communication.outbox;
BEGIN
    IF p_status NOT IN ('SENT', 'DELIVERED', 'READ', 'FAILED') THEN
        RAISE EXCEPTION 'a delivery report says SENT, DELIVERED, READ or FAILED, not %', p_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_report_status';
    END IF;
    SELECT * INTO m FROM communication.outbox o
     WHERE o.channel = p_channel AND o.provider_message_id = p_provider_id
     ORDER BY o.message_id DESC LIMIT 1
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF m.status NOT IN ('SENT', 'FAILED') THEN
        RETURN m.status;
    END IF;
    IF p_status IN ('DELIVERED', 'READ') THEN
        UPDATE communication.outbox
           SET status = 'DELIVERED', delivered_at = p_at, sent_at = coalesce(sent_at, p_at), last_error = NULL
         WHERE message_id = m.message_id;
        RETURN 'DELIVERED';
    ELSIF p_status = 'FAILED' AND m.status = 'SENT' THEN
        UPDATE communication.outbox o
           SET status = CASE WHEN p_may_pass AND o.attempts < s.max_attempts THEN 'FAILED' ELSE 'GIVEN_UP' END,
               sent_at = NULL,
               last_error = left('not delivered: ' || coalesce(p_reason, 'no reason given'), 500),
               next_attempt_at = communication.next_send_time(
                   p_at + make_interval(mins => s.retry_minutes * (2 ^ least(o.attempts, 12))::integer),
                   o.quiet_from, o.quiet_to, o.promotional, s.promo_from, s.promo_to)
          FROM communication.setting s
         WHERE o.message_id = m.message_id
        RETURNING o.status INTO m.status;
    END IF;
    RETURN m.status;
END
$$;
