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
