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

-- The branches the request may see, as one array: every branch for who works across branches (and for
-- the owner with no branch set), else the request's own (NULL-free: none when nothing is set). A
-- policy that asks `branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[])` evaluates
-- it once per statement, not once per row as branch_visible(branch_id) is, and lets an index on
-- branch_id answer: for tables read in bulk by a register (sales.subsidy_claim, sql/0022).
CREATE OR REPLACE FUNCTION platform.visible_branch_ids() RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN coalesce(current_setting('erp.all_branches', true), '') = 'on'
                  OR (coalesce(current_setting('erp.branch_id', true), '') = '' AND platform.acting_as_owner())
                THEN (SELECT coalesce(array_agg(branch_id), '{}') FROM master.branch)
                ELSE coalesce(ARRAY[nullif(current_setting('erp.branch_id', true), '')::integer], '{}') END
$$;

-- A kept printout is what was handed over: never changed, never taken back (sql/0019).
CREATE OR REPLACE TRIGGER printed_document_is_permanent BEFORE UPDATE OR DELETE ON platform.printed_document
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
