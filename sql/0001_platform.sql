-- Platform: validation functions, audit trail, showroom (branch), roles, staff, sessions.
-- Applied once by `flask --app wsgi init-db`; never edit after it has been applied,
-- add a new numbered file instead.

CREATE SCHEMA master;
CREATE SCHEMA audit;

-- ---------------------------------------------------------------------------
-- Validation functions. webapp/validators.py mirrors each one and a test checks
-- that both agree. STRICT: NULL in, NULL out, so optional columns stay optional.
-- ---------------------------------------------------------------------------
CREATE FUNCTION master.is_pan(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[A-Z]{5}[0-9]{4}[A-Z]$' $$;

CREATE FUNCTION master.is_ifsc(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[A-Z]{4}0[A-Z0-9]{6}$' $$;

CREATE FUNCTION master.is_upi_id(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT length(v) <= 100 AND v ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}@[A-Za-z][A-Za-z0-9]{1,31}$' $$;

CREATE FUNCTION master.is_mobile(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[6-9][0-9]{9}$' $$;

CREATE FUNCTION master.is_phone(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[0-9][0-9 -]{5,18}[0-9]$' $$;

CREATE FUNCTION master.is_email(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT length(v) <= 254 AND v ~ '^[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]+$' $$;

CREATE FUNCTION master.is_pincode(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[1-9][0-9]{5}$' $$;

CREATE FUNCTION master.is_bank_account(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[0-9]{9,18}$' $$;

-- GSTIN: state code (2) + PAN (10) + entity (1) + 'Z' + mod-36 check character.
CREATE FUNCTION master.is_gstin(v text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    total integer := 0;
    product integer;
BEGIN
    IF v !~ '^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$' THEN
        RETURN false;
    END IF;
    FOR i IN 1..14 LOOP
        product := (strpos(alphabet, substr(v, i, 1)) - 1) * (CASE WHEN i % 2 = 0 THEN 2 ELSE 1 END);
        total := total + product / 36 + product % 36;
    END LOOP;
    RETURN substr(alphabet, (36 - total % 36) % 36 + 1, 1) = substr(v, 15, 1);
END
$$;

-- ---------------------------------------------------------------------------
-- Audit trail: written by triggers, so a change made directly in SQL is audited
-- too. The acting staff member comes from set_config('erp.staff_id', ..., true)
-- which the application sets at the start of every request's transaction.
-- ---------------------------------------------------------------------------
CREATE TABLE audit.log (
    audit_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    staff_id    integer,                    -- NULL: no staff member (direct SQL, setup, anonymous)
    db_user     text NOT NULL DEFAULT current_user,
    client_addr text,
    action      text NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE', 'EVENT')),
    table_name  text,
    row_key     text,
    event       text,
    before      jsonb,
    after       jsonb,
    txid        bigint NOT NULL DEFAULT txid_current(),
    CHECK ((action = 'EVENT') = (event IS NOT NULL)),
    CHECK (action = 'EVENT' OR table_name IS NOT NULL)
);
CREATE INDEX log_at_idx ON audit.log (at DESC);
CREATE INDEX log_table_at_idx ON audit.log (table_name, at DESC);
CREATE INDEX log_staff_at_idx ON audit.log (staff_id, at DESC);
CREATE INDEX log_event_at_idx ON audit.log (event, at DESC) WHERE event IS NOT NULL;

CREATE FUNCTION audit.current_staff_id() RETURNS integer
LANGUAGE sql STABLE
AS $$ SELECT nullif(current_setting('erp.staff_id', true), '')::integer $$;

CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% rows are permanent; % is not allowed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER log_is_append_only
    BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Trigger arguments: key column, comma list of columns shown only as "[changed]"
-- (secrets), comma list of columns left out of the trail (bookkeeping noise).
CREATE FUNCTION audit.log_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    key_column text := TG_ARGV[0];
    redacted text[] := string_to_array(coalesce(TG_ARGV[1], ''), ',');
    ignored text[] := string_to_array(coalesce(TG_ARGV[2], ''), ',');
    old_row jsonb;
    new_row jsonb;
    col text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - ignored;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW) - ignored;
    END IF;
    FOREACH col IN ARRAY redacted LOOP
        IF TG_OP = 'UPDATE' AND old_row -> col IS DISTINCT FROM new_row -> col THEN
            old_row := old_row || jsonb_build_object(col, '[redacted]');
            new_row := new_row || jsonb_build_object(col, '[changed]');
        ELSE
            old_row := CASE WHEN old_row ? col THEN old_row || jsonb_build_object(col, '[redacted]') ELSE old_row END;
            new_row := CASE WHEN new_row ? col THEN new_row || jsonb_build_object(col, '[redacted]') ELSE new_row END;
        END IF;
    END LOOP;
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN
        RETURN NULL;  -- only ignored columns changed
    END IF;
    INSERT INTO audit.log (staff_id, client_addr, action, table_name, row_key, before, after)
    VALUES (audit.current_staff_id(),
            nullif(current_setting('erp.client_addr', true), ''),
            TG_OP,
            TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
            coalesce(new_row, old_row) ->> key_column,
            old_row,
            new_row);
    RETURN NULL;
END
$$;

-- Every module calls this for each of its tables: SELECT audit.track('sales.booking', 'booking_id');
CREATE FUNCTION audit.track(tbl regclass, key_column text, redacted text DEFAULT '', ignored text DEFAULT '')
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER audit_log_change AFTER INSERT OR UPDATE OR DELETE ON %s '
        'FOR EACH ROW EXECUTE FUNCTION audit.log_change(%L, %L, %L)',
        tbl, key_column, redacted, ignored);
END
$$;

-- Events that are not row changes (login failures, lockouts, overrides).
CREATE FUNCTION audit.record_event(event_name text, table_name text, row_key text, details jsonb)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO audit.log (staff_id, client_addr, action, table_name, row_key, event, after)
    VALUES (audit.current_staff_id(), nullif(current_setting('erp.client_addr', true), ''),
            'EVENT', table_name, row_key, event_name, details)
$$;

-- ---------------------------------------------------------------------------
-- Reference data
-- ---------------------------------------------------------------------------
CREATE TABLE master.state (
    state_code char(2) PRIMARY KEY CHECK (state_code ~ '^[0-9]{2}$'),
    name       text NOT NULL UNIQUE,
    is_union_territory boolean NOT NULL DEFAULT false,
    in_use     boolean NOT NULL DEFAULT true   -- false: code kept only for old GSTINs
);

INSERT INTO master.state (state_code, name, is_union_territory, in_use) VALUES
    ('01', 'Jammu and Kashmir', true, true),
    ('02', 'Himachal Pradesh', false, true),
    ('03', 'Punjab', false, true),
    ('04', 'Chandigarh', true, true),
    ('05', 'Uttarakhand', false, true),
    ('06', 'Haryana', false, true),
    ('07', 'Delhi', true, true),
    ('08', 'Rajasthan', false, true),
    ('09', 'Uttar Pradesh', false, true),
    ('10', 'Bihar', false, true),
    ('11', 'Sikkim', false, true),
    ('12', 'Arunachal Pradesh', false, true),
    ('13', 'Nagaland', false, true),
    ('14', 'Manipur', false, true),
    ('15', 'Mizoram', false, true),
    ('16', 'Tripura', false, true),
    ('17', 'Meghalaya', false, true),
    ('18', 'Assam', false, true),
    ('19', 'West Bengal', false, true),
    ('20', 'Jharkhand', false, true),
    ('21', 'Odisha', false, true),
    ('22', 'Chhattisgarh', false, true),
    ('23', 'Madhya Pradesh', false, true),
    ('24', 'Gujarat', false, true),
    ('25', 'Daman and Diu (before merger)', true, false),
    ('26', 'Dadra and Nagar Haveli and Daman and Diu', true, true),
    ('27', 'Maharashtra', false, true),
    ('28', 'Andhra Pradesh (before division)', false, false),
    ('29', 'Karnataka', false, true),
    ('30', 'Goa', false, true),
    ('31', 'Lakshadweep', true, true),
    ('32', 'Kerala', false, true),
    ('33', 'Tamil Nadu', false, true),
    ('34', 'Puducherry', true, true),
    ('35', 'Andaman and Nicobar Islands', true, true),
    ('36', 'Telangana', false, true),
    ('37', 'Andhra Pradesh', false, true),
    ('38', 'Ladakh', true, true),
    ('97', 'Other Territory', true, true);

CREATE TABLE master.role (
    role_code  text PRIMARY KEY CHECK (role_code ~ '^[A-Z_]{3,20}$'),
    name       text NOT NULL,
    description text NOT NULL,
    sort_order smallint NOT NULL UNIQUE
);

INSERT INTO master.role (role_code, name, description, sort_order) VALUES
    ('ADMIN', 'Administrator', 'Runs the system: staff, showroom profile, audit log, everything else', 1),
    ('MANAGER', 'Manager', 'Approves discounts and purchase orders, sees every sale and report', 2),
    ('SALES', 'Sales executive', 'Enquiries, quotations, bookings and deliveries of their own customers', 3),
    ('SERVICE_ADVISOR', 'Service advisor', 'Opens job cards, estimates and service invoices', 4),
    ('TECHNICIAN', 'Technician', 'Works on job cards assigned in the service bay', 5),
    ('ACCOUNTS', 'Accounts', 'Billing, receipts, payables, GST returns and the day book', 6),
    ('DEALER', 'Sub-dealer', 'A sub-dealer who sees only their own orders and stock', 7);

-- ---------------------------------------------------------------------------
-- Showroom / branch profile
-- ---------------------------------------------------------------------------
CREATE TABLE master.branch (
    branch_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_code    text NOT NULL UNIQUE CHECK (branch_code ~ '^[A-Z0-9]{2,10}$'),
    legal_name     text NOT NULL CHECK (length(btrim(legal_name)) BETWEEN 2 AND 200),
    trade_name     text CHECK (length(btrim(trade_name)) BETWEEN 2 AND 200),
    gstin          text NOT NULL UNIQUE CHECK (master.is_gstin(gstin)),
    state_code     char(2) GENERATED ALWAYS AS (left(gstin, 2)) STORED
                   REFERENCES master.state (state_code),
    address_line1  text NOT NULL CHECK (length(btrim(address_line1)) BETWEEN 2 AND 200),
    address_line2  text CHECK (length(address_line2) <= 200),
    city           text NOT NULL CHECK (length(btrim(city)) BETWEEN 2 AND 100),
    pincode        text NOT NULL CHECK (master.is_pincode(pincode)),
    phone          text NOT NULL CHECK (master.is_phone(phone)),
    email          text CHECK (master.is_email(email)),
    upi_id         text CHECK (master.is_upi_id(upi_id)),
    -- Document numbers are "<prefix>/<series>/<FY>/<n>" within 16 characters (rule 46).
    invoice_prefix text NOT NULL UNIQUE CHECK (invoice_prefix ~ '^[A-Z0-9]{1,4}$'),
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('master.branch', 'branch_id');

-- ---------------------------------------------------------------------------
-- Staff: log in with staff code + PIN. Never deleted: deactivated.
-- ---------------------------------------------------------------------------
CREATE TABLE master.staff (
    staff_id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),
    staff_code       text NOT NULL UNIQUE CHECK (staff_code ~ '^[A-Z0-9]{2,12}$'),
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    designation      text NOT NULL REFERENCES master.role (role_code),
    phone            text CHECK (master.is_mobile(phone)),
    email            text CHECK (master.is_email(email)),
    pan              text CHECK (master.is_pan(pan)),
    upi_id           text CHECK (master.is_upi_id(upi_id)),
    bank_account_no  text CHECK (master.is_bank_account(bank_account_no)),
    ifsc             text CHECK (master.is_ifsc(ifsc)),
    pin_hash         text NOT NULL CHECK (pin_hash LIKE '$argon2id$%'),
    must_change_pin  boolean NOT NULL DEFAULT true,
    pin_changed_at   timestamptz,
    failed_pin_count smallint NOT NULL DEFAULT 0 CHECK (failed_pin_count >= 0),
    locked_until     timestamptz,
    last_login_at    timestamptz,
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT staff_bank_account_needs_ifsc CHECK ((bank_account_no IS NULL) = (ifsc IS NULL))
);
CREATE INDEX staff_branch_idx ON master.staff (branch_id);
CREATE INDEX staff_name_idx ON master.staff (lower(name));
SELECT audit.track('master.staff', 'staff_id', 'pin_hash',
                   'last_login_at,failed_pin_count,updated_at');

CREATE TRIGGER staff_is_never_deleted
    BEFORE DELETE ON master.staff
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE FUNCTION master.staff_touch() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER staff_touch BEFORE UPDATE ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.staff_touch();

-- The showroom must never lock itself out: at least one active ADMIN remains.
CREATE FUNCTION master.keep_an_admin() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.designation = 'ADMIN' AND OLD.is_active
       AND NOT (NEW.designation = 'ADMIN' AND NEW.is_active) THEN
        PERFORM pg_advisory_xact_lock(hashtext('master.staff.admins'));
        IF NOT EXISTS (SELECT 1 FROM master.staff
                       WHERE designation = 'ADMIN' AND is_active AND staff_id <> OLD.staff_id) THEN
            RAISE EXCEPTION 'at least one active administrator must remain'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'staff_keep_an_admin';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER staff_keep_an_admin BEFORE UPDATE OF designation, is_active ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.keep_an_admin();

-- ---------------------------------------------------------------------------
-- Server-side sessions: the cookie carries only a random token; the row holds
-- its SHA-256, so a copy of the database cannot be replayed as a cookie.
-- Deleting the row ends the session at once. Not audited row by row (it changes
-- on every click); logins, logouts and lockouts are audit events instead.
-- ---------------------------------------------------------------------------
CREATE TABLE master.staff_session (
    session_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash       bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    staff_id         integer REFERENCES master.staff (staff_id),
    data             jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    authenticated_at timestamptz,
    client_addr      text,
    user_agent       text CHECK (length(user_agent) <= 400),
    CHECK ((staff_id IS NULL) = (authenticated_at IS NULL))
);
CREATE INDEX staff_session_staff_idx ON master.staff_session (staff_id) WHERE staff_id IS NOT NULL;
CREATE INDEX staff_session_seen_idx ON master.staff_session (last_seen_at);

-- Deactivating a staff member or changing their PIN ends their sessions in the
-- same transaction, whoever makes the change (the screen or direct SQL).
CREATE FUNCTION master.end_sessions_on_staff_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (OLD.is_active AND NOT NEW.is_active)
       OR (NEW.pin_hash IS DISTINCT FROM OLD.pin_hash AND NEW.must_change_pin) THEN
        DELETE FROM master.staff_session WHERE staff_id = NEW.staff_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER staff_end_sessions AFTER UPDATE OF is_active, pin_hash ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.end_sessions_on_staff_change();
