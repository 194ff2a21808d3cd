-- Communication with customers: the reminder rules an administrator edits, message templates in
-- three languages with named placeholders, consent per channel, each reminder made once per (rule,
-- subject, due date), and the outbox that the channels (e-mail, SMS, WhatsApp, the call list) send
-- from with retries. What is due is computed from the data by communication.run_reminders
-- (sql/functions/94_communication.sql); provider passwords and tokens never live here: they come
-- from the environment or the instance folder (webapp/communication/channels.py).

CREATE SCHEMA communication;

-- ---------------------------------------------------------------------------
-- The placeholders a template may use, and the checks a template's text must pass (the same
-- definitions as sql/functions/94_communication.sql, which holds them from now on).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION communication.placeholder_names() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['customer_name', 'vehicle_no', 'vin', 'model', 'due_date', 'due_km', 'branch_name',
                 'branch_phone', 'policy_no', 'cover', 'campaign_title', 'booking_no', 'free_service_no']
$$;

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

-- ---------------------------------------------------------------------------
-- The channels' settings: one row. Every provider is off until an administrator turns it on
-- with what it needs; the SMTP password, the SMS API key and the WhatsApp token are read from
-- the environment (ERP_SMTP_PASSWORD, ERP_SMS_API_KEY, ERP_WHATSAPP_TOKEN) or instance/.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.setting (
    setting_id         smallint PRIMARY KEY DEFAULT 1 CHECK (setting_id = 1),
    email_enabled      boolean NOT NULL DEFAULT false,
    smtp_host          text CHECK (smtp_host ~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$'),
    smtp_port          integer NOT NULL DEFAULT 587 CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_starttls      boolean NOT NULL DEFAULT true,
    smtp_user          text CHECK (length(smtp_user) BETWEEN 1 AND 200),
    email_from         text CHECK (master.is_email(email_from)),
    sms_enabled        boolean NOT NULL DEFAULT false,
    sms_url            text CHECK (sms_url ~ '^https?://[^[:space:]]+$' AND length(sms_url) <= 300),
    dlt_entity_id      text CHECK (dlt_entity_id ~ '^[0-9]{10,30}$'),
    sms_sender         text CHECK (sms_sender ~ '^[A-Z]{6}$'),
    whatsapp_enabled   boolean NOT NULL DEFAULT false,
    whatsapp_url       text CHECK (whatsapp_url ~ '^https?://[^[:space:]]+$' AND length(whatsapp_url) <= 300),
    whatsapp_phone_id  text CHECK (whatsapp_phone_id ~ '^[0-9]{5,30}$'),
    promo_from         time NOT NULL DEFAULT '09:00',       -- promotional messages only between these (IST)
    promo_to           time NOT NULL DEFAULT '21:00',
    max_attempts       smallint NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 20),
    retry_minutes      smallint NOT NULL DEFAULT 5 CHECK (retry_minutes BETWEEN 1 AND 1440),
    timeout_seconds    smallint NOT NULL DEFAULT 10 CHECK (timeout_seconds BETWEEN 1 AND 120),
    CONSTRAINT setting_email_complete CHECK (NOT email_enabled OR (smtp_host IS NOT NULL AND email_from IS NOT NULL)),
    CONSTRAINT setting_sms_complete CHECK (NOT sms_enabled OR (sms_url IS NOT NULL AND dlt_entity_id IS NOT NULL
                                                               AND sms_sender IS NOT NULL)),
    CONSTRAINT setting_whatsapp_complete CHECK (NOT whatsapp_enabled OR (whatsapp_url IS NOT NULL
                                                                         AND whatsapp_phone_id IS NOT NULL)),
    CONSTRAINT setting_promo_hours CHECK (promo_to > promo_from)
);
INSERT INTO communication.setting DEFAULT VALUES;
SELECT audit.track('communication.setting', 'setting_id');

-- The language of a state, for the templates a branch offers beside English and Hindi.
CREATE TABLE communication.state_language (
    state_code character(2) PRIMARY KEY REFERENCES master.state (state_code),
    language   text NOT NULL CHECK (language ~ '^[a-z]{2}$')
);
INSERT INTO communication.state_language (state_code, language)
SELECT s.state_code, l.language
  FROM (VALUES ('29', 'kn'), ('33', 'ta'), ('36', 'te'), ('37', 'te'), ('32', 'ml'), ('27', 'mr'), ('24', 'gu'),
               ('19', 'bn'), ('03', 'pa'), ('21', 'or'), ('07', 'hi'), ('09', 'hi'), ('08', 'hi'), ('23', 'hi'),
               ('10', 'hi'), ('06', 'hi'), ('30', 'mr')) AS l (state_code, language)
  JOIN master.state s ON s.state_code = l.state_code;

-- ---------------------------------------------------------------------------
-- Templates: one per (code, channel, language). The text names its placeholders as
-- {customer_name}; an unknown name or a stray brace is refused. An SMS template is the text
-- registered on the DLT platform with its template id; a WhatsApp one is the approved template's
-- name and language, its body parameters the placeholders in the order they appear.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.template (
    template_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             text NOT NULL CHECK (code ~ '^[A-Z0-9_]{2,40}$'),
    channel          text NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WHATSAPP', 'CALL')),
    language         text NOT NULL CHECK (language ~ '^[a-z]{2}$'),
    subject          text CHECK (length(btrim(subject)) BETWEEN 2 AND 200),
    body             text NOT NULL CHECK (length(btrim(body)) BETWEEN 2 AND 2000),
    dlt_template_id  text CHECK (dlt_template_id ~ '^[0-9]{10,30}$'),
    wa_template_name text CHECK (wa_template_name ~ '^[a-z0-9_]{1,200}$'),
    wa_language      text CHECK (wa_language ~ '^[a-z]{2,3}(_[A-Z]{2})?$'),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT template_once UNIQUE (code, channel, language),
    CONSTRAINT template_placeholders CHECK (communication.template_problems(body) = '{}'
                                            AND communication.template_problems(subject) = '{}'),
    CONSTRAINT template_email_subject CHECK ((channel = 'EMAIL') = (subject IS NOT NULL)),
    CONSTRAINT template_sms_dlt CHECK ((channel = 'SMS') = (dlt_template_id IS NOT NULL)),
    CONSTRAINT template_whatsapp CHECK ((channel = 'WHATSAPP') = (wa_template_name IS NOT NULL)
                                        AND (wa_template_name IS NULL) = (wa_language IS NULL))
);
SELECT audit.track('communication.template', 'template_id');

-- ---------------------------------------------------------------------------
-- Reminder rules: which event, how many days before it, by which channel and template, and the
-- hours when nothing of the rule is sent (quiet hours, IST; may run past midnight). A
-- promotional rule (birthday wishes) sends only to customers who opted in, inside the setting's
-- promotional hours.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.rule (
    rule_id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event         text NOT NULL CHECK (event IN ('SERVICE_DUE', 'INSURANCE_OD', 'INSURANCE_TP', 'WARRANTY_VEHICLE',
                                                 'WARRANTY_BATTERY', 'FREE_SERVICE_LAPSE', 'FOLLOW_UP',
                                                 'DELIVERY_PROMISED', 'RECALL', 'BIRTHDAY')),
    days_before   smallint NOT NULL CHECK (days_before BETWEEN 0 AND 120),
    channel       text NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WHATSAPP', 'CALL')),
    template_code text NOT NULL CHECK (template_code ~ '^[A-Z0-9_]{2,40}$'),
    promotional   boolean NOT NULL DEFAULT false,
    quiet_from    time,
    quiet_to      time,
    is_active     boolean NOT NULL DEFAULT true,
    CONSTRAINT rule_once UNIQUE (event, days_before, channel),
    CONSTRAINT rule_quiet_complete CHECK ((quiet_from IS NULL) = (quiet_to IS NULL)),
    CONSTRAINT rule_quiet_not_empty CHECK (quiet_from <> quiet_to)
);
SELECT audit.track('communication.rule', 'rule_id');

-- ---------------------------------------------------------------------------
-- Consent per customer and channel: opted in or out, when and how. Transactional reminders go
-- unless the customer opted out of the channel; WhatsApp and promotional messages only to a
-- customer who opted in. The history is the audit trail.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.consent (
    customer_id integer NOT NULL REFERENCES master.customer (customer_id),
    channel     text NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WHATSAPP', 'CALL')),
    opted_in    boolean NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    how         text NOT NULL CHECK (how IN ('SIGNED_FORM', 'IN_PERSON', 'PHONE_CALL', 'SMS_REPLY', 'WHATSAPP_REPLY',
                                             'EMAIL_REPLY')),
    note        text CHECK (length(note) <= 300),
    recorded_by integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    PRIMARY KEY (customer_id, channel)
);
SELECT audit.track('communication.consent', 'customer_id');

-- The language a customer reads messages in (none: English).
CREATE TABLE communication.customer_language (
    customer_id integer PRIMARY KEY REFERENCES master.customer (customer_id),
    language    text NOT NULL CHECK (language ~ '^[a-z]{2}$')
);
SELECT audit.track('communication.customer_language', 'customer_id');

-- ---------------------------------------------------------------------------
-- A reminder made by a run: once per (rule, subject, detail, due date), whatever the number of
-- runs, at once or again (the UNIQUE key; run_reminders inserts ON CONFLICT DO NOTHING). Its
-- outcome: QUEUED in the outbox, or why not.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.reminder (
    reminder_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id       integer NOT NULL REFERENCES communication.rule (rule_id),
    subject_kind  text NOT NULL CHECK (subject_kind IN ('VEHICLE', 'POLICY', 'BOOKING', 'ENQUIRY', 'CUSTOMER')),
    subject_id    integer NOT NULL,
    detail_id     integer NOT NULL DEFAULT 0,            -- the recall campaign; 0 for the others
    due_on        date NOT NULL,
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),
    customer_id   integer REFERENCES master.customer (customer_id),
    made_on       date NOT NULL,
    made_at       timestamptz NOT NULL DEFAULT now(),
    outcome       text NOT NULL CHECK (outcome IN ('QUEUED', 'NO_CONSENT', 'NO_ADDRESS', 'NO_TEMPLATE')),
    CONSTRAINT reminder_once UNIQUE (rule_id, subject_kind, subject_id, detail_id, due_on)
);
CREATE INDEX reminder_branch_idx ON communication.reminder (branch_id, made_on);

-- ---------------------------------------------------------------------------
-- The outbox: every message to send, its status (QUEUED -> SENT -> DELIVERED; FAILED and tried
-- again with a growing wait; GIVEN_UP after the last attempt, a permanent refusal or an opt-out),
-- attempts, the provider's message id and the last error. A CALL is a line of the call list; its
-- outcome is recorded by the caller.
-- ---------------------------------------------------------------------------
CREATE TABLE communication.outbox (
    message_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reminder_id         bigint UNIQUE REFERENCES communication.reminder (reminder_id),
    branch_id           integer NOT NULL REFERENCES master.branch (branch_id),
    customer_id         integer REFERENCES master.customer (customer_id),
    channel             text NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WHATSAPP', 'CALL')),
    to_name             text NOT NULL CHECK (length(btrim(to_name)) BETWEEN 1 AND 200),
    to_address          text NOT NULL,
    template_id         integer NOT NULL REFERENCES communication.template (template_id),
    subject             text CHECK (length(subject) <= 400),
    body                text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    params              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(params) = 'array'),
    promotional         boolean NOT NULL DEFAULT false,
    quiet_from          time,
    quiet_to            time,
    status              text NOT NULL DEFAULT 'QUEUED'
                        CHECK (status IN ('QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'GIVEN_UP')),
    attempts            smallint NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 100),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    provider_message_id text CHECK (length(provider_message_id) BETWEEN 1 AND 200),
    last_error          text CHECK (length(last_error) <= 500),
    sent_at             timestamptz,
    delivered_at        timestamptz,
    call_outcome        text CHECK (call_outcome IN ('REACHED', 'NO_ANSWER', 'CALL_BACK', 'WRONG_NUMBER',
                                                     'NOT_INTERESTED')),
    call_note           text CHECK (length(call_note) <= 300),
    called_by           integer REFERENCES master.staff (staff_id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_address CHECK (CASE channel WHEN 'EMAIL' THEN master.is_email(to_address)
                                                  ELSE master.is_mobile(to_address) END),
    CONSTRAINT outbox_sent CHECK ((status IN ('SENT', 'DELIVERED')) = (sent_at IS NOT NULL)),
    CONSTRAINT outbox_delivered CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL)),
    CONSTRAINT outbox_call_outcome CHECK (call_outcome IS NULL OR channel = 'CALL'),
    CONSTRAINT outbox_call_outcome_by CHECK ((call_outcome IS NULL) = (called_by IS NULL))
);
CREATE INDEX outbox_due_idx ON communication.outbox (next_attempt_at) WHERE status IN ('QUEUED', 'FAILED');
CREATE INDEX outbox_branch_idx ON communication.outbox (branch_id, created_at DESC);

-- The reminders and the outbox are their branch's (sql/0014).
ALTER TABLE communication.reminder ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON communication.reminder USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));
ALTER TABLE communication.outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON communication.outbox USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- The engine's functions and triggers (the same definitions as sql/functions/94_communication.sql,
-- which holds them from now on).
-- ---------------------------------------------------------------------------

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
