-- Who works across branches: every ADMIN, and a MANAGER of a branch whose profile says it is the
-- head office (the group's manager). The request's transaction sets erp.all_branches from this one
-- rule (webapp/sessions.py and the login), which the row-level policies of 0014 read.

ALTER TABLE master.branch
    ADD COLUMN head_office boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN master.branch.head_office IS 'Its managers work across every branch of the group';

CREATE FUNCTION master.works_across_branches(p_staff_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT st.designation = 'ADMIN' OR (st.designation = 'MANAGER' AND b.head_office)
                       FROM master.staff st JOIN master.branch b USING (branch_id)
                      WHERE st.staff_id = p_staff_id AND st.is_active), false)
$$;
