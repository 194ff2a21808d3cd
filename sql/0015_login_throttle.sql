-- Login abuse: a delay per client address after repeated failures, and the wrong-PIN lockout
-- per (staff code as typed, address) instead of per account.
--
-- Neither table is under row-level security (a login has no branch yet); init-db grants the app
-- role its rights on every table (webapp/migrations.py prepare_app_role).
--
-- login_throttle: one row per terminal address. Failures are counted in a window; after
-- ERP_LOGIN_THROTTLE_AFTER of them the address waits 2^k seconds (k growing with each further
-- failure) before its next attempt is even checked. The row also remembers how many of the
-- window's failures the audit trail has already been told about, so the trail gets a handful of
-- summary events per address and window, never one row per attempt.
CREATE TABLE master.login_throttle (
    client_addr       text PRIMARY KEY CHECK (length(client_addr) <= 64),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    failures          integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    refused           integer NOT NULL DEFAULT 0 CHECK (refused >= 0),
    audited_failures  integer NOT NULL DEFAULT 0 CHECK (audited_failures >= 0),
    codes_tried       text[] NOT NULL DEFAULT '{}' CHECK (cardinality(codes_tried) <= 10),
    next_allowed_at   timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_throttle_updated_idx ON master.login_throttle (updated_at);

-- login_lockout: wrong PINs for one staff code from one address. The code is the one typed,
-- known or not, so a locked real code and a locked made-up code answer alike. Locking a code
-- at one terminal leaves it open at the others: nobody can keep an administrator out of
-- every terminal from one PC.
CREATE TABLE master.login_lockout (
    staff_code   text NOT NULL CHECK (length(staff_code) <= 40),
    client_addr  text NOT NULL CHECK (length(client_addr) <= 64),
    failures     smallint NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_code, client_addr)
);
CREATE INDEX login_lockout_updated_idx ON master.login_lockout (updated_at);

-- A new PIN (the administrator's reset, or the member's own change) lifts every lock on the
-- code, whoever sets it (screen or direct SQL).
CREATE FUNCTION master.unlock_on_new_pin() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.pin_hash IS DISTINCT FROM OLD.pin_hash AND NEW.pin_changed_at IS DISTINCT FROM OLD.pin_changed_at THEN
        DELETE FROM master.login_lockout WHERE staff_code = NEW.staff_code;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER staff_unlock_on_new_pin AFTER UPDATE OF pin_hash ON master.staff
    FOR EACH ROW EXECUTE FUNCTION master.unlock_on_new_pin();

