-- HR: people (employment details on top of the staff record), attendance by PIN at a shared
-- terminal, shifts, weekly offs and holidays, leave, and the monthly attendance close that payroll
-- reads. The rules (punches alternate within a day, nobody who left punches, leave within balance
-- and never overlapping, a closed month is permanent) are held by the triggers of
-- sql/functions/99_hr.sql; the tables, keys and checks are here.
--
-- Days are India's calendar days (Asia/Kolkata): a punch's work_day is the IST date of its time.
-- A shift does not cross midnight.

CREATE SCHEMA hr;

-- ---------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------
CREATE TABLE hr.department (
    department_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 60),
    is_active     boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX department_name_once ON hr.department (lower(btrim(name)));
SELECT audit.track('hr.department', 'department_id');

-- A branch's shifts: start, end, the minutes of grace before an arrival is late, the hours under
-- which a day is only a half day or is absent, and the weekly off (ISO day: 1 Monday .. 7 Sunday).
-- One shift per branch is its default, worked by whoever has no shift of their own.
CREATE TABLE hr.shift (
    shift_id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),
    name             text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 40),
    starts_at        time NOT NULL,
    ends_at          time NOT NULL,
    grace_minutes    smallint NOT NULL DEFAULT 10 CHECK (grace_minutes BETWEEN 0 AND 120),
    half_day_hours   numeric(4,2) NOT NULL CHECK (half_day_hours > 0 AND half_day_hours <= 24),
    absent_hours     numeric(4,2) NOT NULL CHECK (absent_hours >= 0 AND absent_hours <= 24),
    weekly_off       smallint NOT NULL DEFAULT 7 CHECK (weekly_off BETWEEN 1 AND 7),
    is_default       boolean NOT NULL DEFAULT false,
    CONSTRAINT shift_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT shift_thresholds CHECK (absent_hours < half_day_hours
                                       AND half_day_hours <= extract(epoch FROM ends_at - starts_at) / 3600),
    UNIQUE (branch_id, name)
);
CREATE UNIQUE INDEX shift_one_default ON hr.shift (branch_id) WHERE is_default;
SELECT audit.track('hr.shift', 'shift_id');
ALTER TABLE hr.shift ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.shift USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

CREATE TABLE hr.holiday (
    holiday_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    on_date    date NOT NULL,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 60),
    CONSTRAINT holiday_once_a_day UNIQUE (branch_id, on_date)
);
SELECT audit.track('hr.holiday', 'holiday_id');
ALTER TABLE hr.holiday ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.holiday USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- Employment details of a staff member. PAN and the bank account stay on master.staff (their
-- existing checks); PF, ESI and the emergency contact are here. Never deleted: a person who leaves
-- has a date of leaving, and the staff record is deactivated by trigger.
CREATE TABLE hr.employee (
    staff_id          integer PRIMARY KEY REFERENCES master.staff (staff_id),
    joined_on         date NOT NULL,
    left_on           date,
    department_id     integer REFERENCES hr.department (department_id),
    manager_id        integer REFERENCES master.staff (staff_id),
    shift_id          integer REFERENCES hr.shift (shift_id),
    uan               text CHECK (uan ~ '^[0-9]{12}$'),
    pf_number         text CHECK (pf_number ~ '^[A-Z]{5}[0-9]{7}[0-9]{3}[0-9]{7}$'),
    esi_ip_number     text CHECK (esi_ip_number ~ '^[0-9]{10}$'),
    emergency_name     text CHECK (length(btrim(emergency_name)) BETWEEN 2 AND 120),
    emergency_relation text CHECK (length(btrim(emergency_relation)) BETWEEN 2 AND 40),
    emergency_phone    text CHECK (master.is_phone(emergency_phone)),
    CONSTRAINT employee_left_after_joining CHECK (left_on IS NULL OR left_on >= joined_on),
    CONSTRAINT employee_not_own_manager CHECK (manager_id <> staff_id),
    CONSTRAINT employee_emergency_complete CHECK (
        (emergency_name IS NULL) = (emergency_phone IS NULL) AND (emergency_relation IS NULL OR emergency_name IS NOT NULL))
);
CREATE INDEX employee_manager_idx ON hr.employee (manager_id);
CREATE UNIQUE INDEX employee_uan_once ON hr.employee (uan);
CREATE UNIQUE INDEX employee_esi_once ON hr.employee (esi_ip_number);
SELECT audit.track('hr.employee', 'staff_id');

-- Documents (appointment letter, ID proof...) as uploaded files with their SHA-256, checked here.
CREATE TABLE hr.employee_document (
    document_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id     integer NOT NULL REFERENCES hr.employee (staff_id),
    kind         text NOT NULL CHECK (kind IN ('APPOINTMENT_LETTER', 'ID_PROOF', 'ADDRESS_PROOF', 'OTHER')),
    file_name    text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    content      bytea NOT NULL CHECK (octet_length(content) BETWEEN 1 AND 6291456),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    uploaded_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT employee_document_checksum CHECK (sha256 = encode(sha256(content), 'hex')),
    CONSTRAINT employee_document_once UNIQUE (staff_id, sha256)
);
SELECT audit.track('hr.employee_document', 'document_id', 'content');

-- ---------------------------------------------------------------------------
-- Attendance
-- ---------------------------------------------------------------------------
-- A browser a MANAGER enabled as the branch's punching terminal: its signed cookie carries the id
-- and a random token whose SHA-256 is kept here; revoking the row ends it.
CREATE TABLE hr.terminal (
    terminal_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 40),
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    enabled_by   integer NOT NULL REFERENCES master.staff (staff_id),
    enabled_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
SELECT audit.track('hr.terminal', 'terminal_id', 'token_sha256');
ALTER TABLE hr.terminal ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.terminal USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- A punch: IN or OUT at a terminal (the server's time), or a MANAGER's correction with a reason
-- (its time as entered). Permanent; the previous and next punch of the same day must be of the
-- other kind, the day's first an IN.
CREATE TABLE hr.punch (
    punch_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id      integer NOT NULL REFERENCES hr.employee (staff_id),
    kind          text NOT NULL CHECK (kind IN ('IN', 'OUT')),
    punched_at    timestamptz NOT NULL DEFAULT now(),
    work_day      date NOT NULL,
    terminal_id   integer REFERENCES hr.terminal (terminal_id),
    reason        text CHECK (length(btrim(reason)) BETWEEN 5 AND 200),
    marked_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT punch_day_is_ist CHECK (work_day = (punched_at AT TIME ZONE 'Asia/Kolkata')::date),
    CONSTRAINT punch_terminal_or_correction CHECK (
        (terminal_id IS NOT NULL AND reason IS NULL) OR (terminal_id IS NULL AND reason IS NOT NULL AND marked_by IS NOT NULL)),
    CONSTRAINT punch_not_by_self CHECK (reason IS NULL OR marked_by <> staff_id)
);
CREATE INDEX punch_staff_day_idx ON hr.punch (staff_id, work_day, punched_at);
CREATE INDEX punch_branch_day_idx ON hr.punch (branch_id, work_day);
SELECT audit.track('hr.punch', 'punch_id');
ALTER TABLE hr.punch ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.punch USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- Leave
-- ---------------------------------------------------------------------------
CREATE TABLE hr.leave_type (
    leave_code text PRIMARY KEY CHECK (leave_code ~ '^[A-Z]{2,4}$'),
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 40),
    is_paid    boolean NOT NULL,
    has_quota  boolean NOT NULL,      -- loss of pay has none: taken as needed
    is_active  boolean NOT NULL DEFAULT true,
    CONSTRAINT leave_type_unpaid_has_no_quota CHECK (is_paid OR NOT has_quota)
);
SELECT audit.track('hr.leave_type', 'leave_code');

-- The yearly quota of a leave type for a calendar year, and how many unused days may be carried
-- into the next year (0: none).
CREATE TABLE hr.leave_quota (
    leave_code        text NOT NULL REFERENCES hr.leave_type (leave_code),
    year              smallint NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    days              numeric(4,1) NOT NULL CHECK (days >= 0 AND days <= 366),
    carry_forward_max numeric(4,1) NOT NULL DEFAULT 0 CHECK (carry_forward_max >= 0 AND carry_forward_max <= 366),
    PRIMARY KEY (leave_code, year)
);
SELECT audit.track('hr.leave_quota', 'leave_code');

-- Days carried into a year (hr.carry_forward writes them from the year before, capped).
CREATE TABLE hr.leave_opening (
    staff_id   integer NOT NULL REFERENCES hr.employee (staff_id),
    leave_code text NOT NULL REFERENCES hr.leave_type (leave_code),
    year       smallint NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    days       numeric(4,1) NOT NULL CHECK (days >= 0 AND days <= 366),
    PRIMARY KEY (staff_id, leave_code, year)
);
SELECT audit.track('hr.leave_opening', 'staff_id');

CREATE TABLE hr.leave_application (
    leave_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id     integer NOT NULL REFERENCES hr.employee (staff_id),
    leave_code   text NOT NULL REFERENCES hr.leave_type (leave_code),
    from_date    date NOT NULL,
    to_date      date NOT NULL,
    half         text CHECK (half IN ('FIRST', 'SECOND')),     -- a half day: from_date = to_date
    days         numeric(4,1) NOT NULL DEFAULT 0 CHECK (days >= 0),   -- working days, set by trigger
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 200),
    status       text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED')),
    applied_at   timestamptz NOT NULL DEFAULT now(),
    decided_by   integer REFERENCES master.staff (staff_id),
    decided_at   timestamptz,
    decision_note text CHECK (length(btrim(decision_note)) BETWEEN 1 AND 200),
    CONSTRAINT leave_period CHECK (to_date >= from_date AND to_date - from_date < 62),
    CONSTRAINT leave_within_one_year CHECK (extract(year FROM from_date) = extract(year FROM to_date)),
    CONSTRAINT leave_half_is_one_day CHECK (half IS NULL OR from_date = to_date),
    CONSTRAINT leave_decided CHECK ((status IN ('APPROVED', 'REJECTED')) = (decided_by IS NOT NULL AND decided_at IS NOT NULL)),
    CONSTRAINT leave_no_overlap EXCLUDE USING gist (
        int4range(staff_id, staff_id, '[]') WITH &&,
        daterange(from_date, to_date, '[]') WITH &&) WHERE (status IN ('PENDING', 'APPROVED'))
);
CREATE INDEX leave_application_branch_idx ON hr.leave_application (branch_id, from_date);
SELECT audit.track('hr.leave_application', 'leave_id');
ALTER TABLE hr.leave_application ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.leave_application USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- The month closed (ACCOUNTS / ADMIN): its figures per person kept as they were, permanent
-- ---------------------------------------------------------------------------
CREATE TABLE hr.month_close (
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    closed_by  integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    closed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (branch_id, month)
);
SELECT audit.track('hr.month_close', 'month');
ALTER TABLE hr.month_close ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.month_close USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

CREATE TABLE hr.month_close_line (
    branch_id     integer NOT NULL,
    month         date NOT NULL,
    staff_id      integer NOT NULL REFERENCES hr.employee (staff_id),
    days_employed smallint NOT NULL CHECK (days_employed BETWEEN 0 AND 31),
    present_days  numeric(4,1) NOT NULL,
    late_marks    smallint NOT NULL,
    half_days     smallint NOT NULL,
    absent_days   numeric(4,1) NOT NULL,
    leave_days    numeric(4,1) NOT NULL,
    weekly_offs   smallint NOT NULL,
    holidays      smallint NOT NULL,
    payment_days  numeric(4,1) NOT NULL CHECK (payment_days >= 0),
    lop_days      numeric(4,1) NOT NULL CHECK (lop_days >= 0),
    PRIMARY KEY (branch_id, month, staff_id),
    FOREIGN KEY (branch_id, month) REFERENCES hr.month_close (branch_id, month),
    CONSTRAINT month_close_line_adds_up CHECK (payment_days + lop_days = days_employed)
);
ALTER TABLE hr.month_close_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.month_close_line USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- The leave types every showroom starts with; quotas are entered per year (Administration > HR).
INSERT INTO hr.leave_type (leave_code, name, is_paid, has_quota) VALUES
    ('CL', 'Casual leave', true, true),
    ('SL', 'Sick leave', true, true),
    ('EL', 'Earned leave', true, true),
    ('LOP', 'Loss of pay', false, false);
