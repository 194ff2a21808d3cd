-- The master schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

-- ---------------------------------------------------------------------------
-- Validation functions. webapp/validators.py mirrors each one and a test checks
-- that both agree. STRICT: NULL in, NULL out, so optional columns stay optional.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION master.is_pan(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[A-Z]{5}[0-9]{4}[A-Z]$' $$;

CREATE OR REPLACE FUNCTION master.is_ifsc(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[A-Z]{4}0[A-Z0-9]{6}$' $$;

CREATE OR REPLACE FUNCTION master.is_upi_id(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT length(v) <= 100 AND v ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}@[A-Za-z][A-Za-z0-9]{1,31}$' $$;

CREATE OR REPLACE FUNCTION master.is_mobile(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[6-9][0-9]{9}$' $$;

CREATE OR REPLACE FUNCTION master.is_phone(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[0-9][0-9 -]{5,18}[0-9]$' $$;

CREATE OR REPLACE FUNCTION master.is_email(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT length(v) <= 254 AND v ~ '^[^@ \t\n\r\f\v]+@[^@ \t\n\r\f\v]+\.[^@ \t\n\r\f\v]+$' $$;

CREATE OR REPLACE FUNCTION master.is_pincode(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[1-9][0-9]{5}$' $$;

CREATE OR REPLACE FUNCTION master.is_bank_account(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT v ~ '^[0-9]{9,18}$' $$;

-- GSTIN: state code (2) + PAN (10) + entity (1) + 'Z' + mod-36 check character.
CREATE OR REPLACE FUNCTION master.is_gstin(v text) RETURNS boolean
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

CREATE OR REPLACE TRIGGER staff_is_never_deleted
    BEFORE DELETE ON master.staff
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE FUNCTION master.staff_touch() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER staff_touch BEFORE UPDATE ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.staff_touch();

-- The showroom must never lock itself out: at least one active ADMIN remains.
CREATE OR REPLACE FUNCTION master.keep_an_admin() RETURNS trigger
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

CREATE OR REPLACE TRIGGER staff_keep_an_admin BEFORE UPDATE OF designation, is_active ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.keep_an_admin();

-- Deactivating a staff member or changing their PIN ends their sessions in the
-- same transaction, whoever makes the change (the screen or direct SQL).
CREATE OR REPLACE FUNCTION master.end_sessions_on_staff_change() RETURNS trigger
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

CREATE OR REPLACE TRIGGER staff_end_sessions AFTER UPDATE OF is_active, pin_hash ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.end_sessions_on_staff_change();

CREATE OR REPLACE FUNCTION master.same_key(k text) RETURNS master.textrange
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT master.textrange(k, k, '[]') $$;

-- Validity periods are inclusive of both ends; an open end is "until further notice".
CREATE OR REPLACE FUNCTION master.valid_during(valid_from date, valid_to date) RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT daterange(valid_from, valid_to, '[]') $$;

-- ---------------------------------------------------------------------------
-- Financial year and document numbers
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION master.fy_start_year(d date) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN extract(month FROM d) >= 4 THEN extract(year FROM d)::int
                  ELSE extract(year FROM d)::int - 1 END $$;

-- "BLRINV/26/123": branch prefix + series, FY start year, number. At most 16 characters of
-- [A-Z0-9/-] (CGST rule 46); refuses rather than truncates.
CREATE OR REPLACE FUNCTION master.next_document_no(p_branch integer, p_series text, p_on date) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    fy integer := master.fy_start_year(p_on);
    n integer;
    prefix text;
    doc_no text;
BEGIN
    INSERT INTO master.document_counter AS c (branch_id, series, fy_start, last_no)
    VALUES (p_branch, p_series, fy, 1)
    ON CONFLICT (branch_id, series, fy_start) DO UPDATE SET last_no = c.last_no + 1
    RETURNING last_no INTO n;
    SELECT invoice_prefix INTO STRICT prefix FROM master.branch WHERE branch_id = p_branch;
    doc_no := prefix || p_series || '/' || lpad((fy % 100)::text, 2, '0') || '/' || n;
    IF length(doc_no) > 16 OR doc_no !~ '^[A-Z0-9/-]+$' THEN
        RAISE EXCEPTION 'document number % would break the 16-character rule', doc_no
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN doc_no;
END
$$;

-- The rate in force on a date; NULL when the tax master has no rate for that day.
CREATE OR REPLACE FUNCTION master.gst_rate_on(p_hsn text, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT gst_rate FROM master.hsn_rate
     WHERE hsn_code = p_hsn AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- The database, not the app, notes when the logo last changed.
CREATE OR REPLACE FUNCTION master.branch_logo_touch() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.logo IS DISTINCT FROM OLD.logo THEN
        NEW.logo_updated_at := CASE WHEN NEW.logo IS NULL THEN NULL ELSE now() END;
    ELSE
        NEW.logo_updated_at := OLD.logo_updated_at;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER branch_logo_touch
    BEFORE INSERT OR UPDATE ON master.branch
    FOR EACH ROW EXECUTE FUNCTION master.branch_logo_touch();

-- A new PIN (the administrator's reset, or the member's own change) lifts every lock on the
-- code, whoever sets it (screen or direct SQL).
CREATE OR REPLACE FUNCTION master.unlock_on_new_pin() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.pin_hash IS DISTINCT FROM OLD.pin_hash AND NEW.pin_changed_at IS DISTINCT FROM OLD.pin_changed_at THEN
        DELETE FROM master.login_lockout WHERE staff_code = NEW.staff_code;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER staff_unlock_on_new_pin AFTER UPDATE OF pin_hash ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.unlock_on_new_pin();

CREATE OR REPLACE FUNCTION master.works_across_branches(p_staff_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT st.designation = 'ADMIN' OR (st.designation = 'MANAGER' AND b.head_office)
                       FROM master.staff st JOIN master.branch b USING (branch_id)
                      WHERE st.staff_id = p_staff_id AND st.is_active), false)
$$;
