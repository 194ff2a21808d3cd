-- The audit schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

CREATE OR REPLACE FUNCTION audit.current_staff_id() RETURNS integer
LANGUAGE sql STABLE
AS $$ SELECT nullif(current_setting('erp.staff_id', true), '')::integer $$;

CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '% rows are permanent; % is not allowed', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE OR REPLACE TRIGGER log_is_append_only
    BEFORE UPDATE OR DELETE ON audit.log
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Trigger arguments: key column, comma list of columns shown only as "[changed]"
-- (secrets), comma list of columns left out of the trail (bookkeeping noise).
CREATE OR REPLACE FUNCTION audit.log_change() RETURNS trigger
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
CREATE OR REPLACE FUNCTION audit.track(tbl regclass, key_column text, redacted text DEFAULT '', ignored text DEFAULT '')
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
CREATE OR REPLACE FUNCTION audit.record_event(event_name text, table_name text, row_key text, details jsonb)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO audit.log (staff_id, client_addr, action, table_name, row_key, event, after)
    VALUES (audit.current_staff_id(), nullif(current_setting('erp.client_addr', true), ''),
            'EVENT', table_name, row_key, event_name, details)
$$;
