-- The platform schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

-- The tables' owner (migrations, the command-line tools), or a superuser: sees every branch.
CREATE OR REPLACE FUNCTION platform.acting_as_owner() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper)
        OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'master.branch'::regclass), 'MEMBER')
$$;

-- True when the request may see rows of branch b. A request always sets its branch; a
-- connection that sets none sees nothing unless it is the owner's.
CREATE OR REPLACE FUNCTION platform.branch_visible(b integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(current_setting('erp.all_branches', true), '') = 'on'
        OR b = nullif(current_setting('erp.branch_id', true), '')::integer
        OR (coalesce(current_setting('erp.branch_id', true), '') = '' AND platform.acting_as_owner())
$$;

-- A kept printout is what was handed over: never changed, never taken back (sql/0019).
CREATE OR REPLACE TRIGGER printed_document_is_permanent BEFORE UPDATE OR DELETE ON platform.printed_document
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
