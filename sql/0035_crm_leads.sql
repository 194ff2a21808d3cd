-- CRM: the sales enquiry becomes the CRM lead (issue 13). There is one list of prospects, not two:
-- sales.enquiry is moved into the crm schema as crm.lead. ALTER TABLE ... SET SCHEMA and RENAME keep
-- every row and id, the identity sequence, the indexes, the branch policy (sql/0014) and the foreign
-- keys from sales.quotation and sales.booking, whose columns are renamed lead_id.
--
-- Statuses: NEW, CONTACTED, TEST_RIDE, NEGOTIATION, BOOKED, LOST. The moved rows map
--   OPEN   -> CONTACTED   (every enquiry was typed in by the salesperson who met or called the
--                          customer; NEW is for a lead nobody has spoken to yet: a website form,
--                          an OEM portal lead)
--   QUOTED -> NEGOTIATION (a price was quoted)
--   BOOKED, LOST as they were.
-- Sources: ONLINE becomes WEBSITE; EVENT and OEM_PORTAL are added.
-- Lost: a reason from crm.lost_reason (master data rows) and a remark; a moved lost enquiry gets
-- OTHER with its old free text as the remark.
-- The move is done with the audit trigger off (it is re-created for the new key column): the
-- mapping is a schema change, not anyone's edit of a lead, and must not write a row per lead.
-- Earlier audit rows keep the name sales.enquiry (audit.log is append-only); the audit screen
-- labels both names from crm.lead.

CREATE SCHEMA crm;

-- ---------------------------------------------------------------------------
-- Why a lead was lost: master data rows an administrator may add to.
-- ---------------------------------------------------------------------------
CREATE TABLE crm.lost_reason (
    reason_code text PRIMARY KEY CHECK (reason_code ~ '^[A-Z][A-Z_]{1,29}$'),
    label       text NOT NULL UNIQUE CHECK (length(btrim(label)) BETWEEN 2 AND 80),
    sort_order  smallint NOT NULL DEFAULT 100,
    active      boolean NOT NULL DEFAULT true
);
INSERT INTO crm.lost_reason (reason_code, label, sort_order) VALUES
    ('PRICE', 'Price too high', 10),
    ('OTHER_BRAND', 'Bought another brand', 20),
    ('OTHER_DEALER', 'Bought from another dealer', 30),
    ('FINANCE_REFUSED', 'Finance refused', 40),
    ('RANGE', 'Range or charging concerns', 50),
    ('WAITING', 'Waiting period too long', 60),
    ('POSTPONED', 'Purchase postponed', 70),
    ('NO_RESPONSE', 'Not reachable', 80),
    ('OTHER', 'Other', 90);
SELECT audit.track('crm.lost_reason', 'reason_code');

-- ---------------------------------------------------------------------------
-- The move
-- ---------------------------------------------------------------------------
DROP TRIGGER audit_log_change ON sales.enquiry;
ALTER TABLE sales.enquiry SET SCHEMA crm;
ALTER TABLE crm.enquiry RENAME TO lead;
ALTER TABLE crm.lead RENAME COLUMN enquiry_id TO lead_id;
ALTER TABLE crm.lead RENAME COLUMN enquiry_date TO lead_date;
ALTER TABLE crm.lead RENAME COLUMN lost_reason TO lost_remark;
ALTER SEQUENCE crm.enquiry_enquiry_id_seq RENAME TO lead_lead_id_seq;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_pkey TO lead_pkey;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_branch_id_fkey TO lead_branch_id_fkey;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_customer_id_fkey TO lead_customer_id_fkey;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_model_id_fkey TO lead_model_id_fkey;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_salesperson_id_fkey TO lead_salesperson_id_fkey;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_email_check TO lead_email_check;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_mobile_check TO lead_mobile_check;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_name_check TO lead_name_check;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_notes_check TO lead_notes_check;
ALTER TABLE crm.lead RENAME CONSTRAINT enquiry_lost_reason_check TO lead_lost_remark_check;
ALTER TABLE crm.lead DROP CONSTRAINT enquiry_lost_reason;
ALTER TABLE crm.lead DROP CONSTRAINT enquiry_source_check;
ALTER TABLE crm.lead DROP CONSTRAINT enquiry_status_check;
ALTER INDEX crm.enquiry_branch_status_idx RENAME TO lead_branch_status_idx;
ALTER INDEX crm.enquiry_branch_date_idx RENAME TO lead_branch_date_idx;
ALTER INDEX crm.enquiry_salesperson_idx RENAME TO lead_salesperson_idx;
ALTER INDEX crm.enquiry_mobile_idx RENAME TO lead_mobile_idx;

ALTER TABLE sales.quotation RENAME COLUMN enquiry_id TO lead_id;
ALTER TABLE sales.quotation RENAME CONSTRAINT quotation_enquiry_id_fkey TO quotation_lead_id_fkey;
ALTER INDEX sales.quotation_enquiry_idx RENAME TO quotation_lead_idx;
ALTER TABLE sales.booking RENAME COLUMN enquiry_id TO lead_id;
ALTER TABLE sales.booking RENAME CONSTRAINT booking_enquiry_id_fkey TO booking_lead_id_fkey;

-- What a lead records beyond the enquiry.
ALTER TABLE crm.lead
    ADD COLUMN lost_reason_code text REFERENCES crm.lost_reason (reason_code),
    ADD COLUMN budget numeric(12,2) CONSTRAINT lead_budget_check CHECK (budget > 0 AND budget < 1000000000),
    ADD COLUMN finance_needed boolean NOT NULL DEFAULT false,
    ADD COLUMN exchange_vehicle text CONSTRAINT lead_exchange_vehicle_check
        CHECK (length(btrim(exchange_vehicle)) BETWEEN 2 AND 120),
    ADD COLUMN expected_purchase_on date,
    ADD COLUMN next_action text CONSTRAINT lead_next_action_check CHECK (length(btrim(next_action)) BETWEEN 2 AND 120),
    ADD COLUMN oem_lead_ref text CONSTRAINT lead_oem_lead_ref_check CHECK (oem_lead_ref ~ '^[A-Za-z0-9/_.-]{1,40}$'),
    ADD COLUMN contacted_at timestamptz;

UPDATE crm.lead SET status = CASE status WHEN 'OPEN' THEN 'CONTACTED' WHEN 'QUOTED' THEN 'NEGOTIATION' ELSE status END,
                    source = CASE source WHEN 'ONLINE' THEN 'WEBSITE' ELSE source END,
                    lost_reason_code = CASE WHEN status = 'LOST' THEN 'OTHER' END
 WHERE status IN ('OPEN', 'QUOTED', 'LOST') OR source = 'ONLINE';

ALTER TABLE crm.lead
    ALTER COLUMN status SET DEFAULT 'NEW',
    ADD CONSTRAINT lead_status_check
        CHECK (status IN ('NEW', 'CONTACTED', 'TEST_RIDE', 'NEGOTIATION', 'BOOKED', 'LOST')),
    ADD CONSTRAINT lead_source_check
        CHECK (source IN ('WALK_IN', 'PHONE', 'WEBSITE', 'REFERRAL', 'EVENT', 'OEM_PORTAL')),
    -- Lost needs a reason from the list and a remark; any other status has neither.
    ADD CONSTRAINT lead_lost_reason
        CHECK ((status = 'LOST') = (lost_reason_code IS NOT NULL) AND (status = 'LOST') = (lost_remark IS NOT NULL)),
    ADD CONSTRAINT lead_next_action_when CHECK (next_action IS NULL OR follow_up_on IS NOT NULL);

-- An OEM portal lead is taken in once per branch, however often its list is uploaded.
CREATE UNIQUE INDEX lead_oem_lead_ref_once ON crm.lead (branch_id, oem_lead_ref) WHERE oem_lead_ref IS NOT NULL;
-- "My follow-ups today / overdue": open leads of a salesperson by their follow-up date.
CREATE INDEX lead_follow_up_idx ON crm.lead (salesperson_id, follow_up_on)
    WHERE status NOT IN ('BOOKED', 'LOST') AND follow_up_on IS NOT NULL;

SELECT audit.track('crm.lead', 'lead_id');

-- ---------------------------------------------------------------------------
-- Each call or visit and its outcome (one or two taps on the lead or the dashboard).
-- ---------------------------------------------------------------------------
CREATE TABLE crm.contact (
    contact_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id      integer NOT NULL REFERENCES crm.lead (lead_id),
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    contacted_at timestamptz NOT NULL DEFAULT now(),
    outcome      text NOT NULL CHECK (outcome IN ('REACHED', 'NO_ANSWER', 'CALL_BACK', 'VISIT_PLANNED', 'NOT_INTERESTED')),
    note         text CHECK (length(btrim(note)) BETWEEN 1 AND 300),
    staff_id     integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id()
);
CREATE INDEX contact_lead_idx ON crm.contact (lead_id, contacted_at DESC);
SELECT audit.track('crm.contact', 'contact_id');

-- Round-robin assignment: whose turn it was last, per branch.
CREATE TABLE crm.assignment_turn (
    branch_id integer PRIMARY KEY REFERENCES master.branch (branch_id),
    staff_id  integer NOT NULL REFERENCES master.staff (staff_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['crm.contact', 'crm.assignment_turn'] LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_branch ON %s USING (platform.branch_visible(branch_id)) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;
