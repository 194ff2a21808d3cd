-- The hr schema's functions, triggers and views as they are now (tables: sql/0043_hr.sql). init-db
-- runs this file again whenever it changes, after the numbered migrations.
--
-- How a day is read (hr.attendance_days), in this order:
--   HOLIDAY       the branch's holiday list                                   paid 1
--   WEEKLY_OFF    the person's shift's weekly off                             paid 1
--   LEAVE         an approved full-day leave                                  paid 1 (loss of pay: 0)
--   FUTURE/TODAY  not over yet (a day counts once it is over: for a night shift, once the next day's
--                 shift has begun, see hr.work_day): counted nowhere
--   UNREGULARISED the day's last punch is an IN (a forgotten out-punch)       paid 0, and the month
--                 cannot be closed until the reporting manager (or a MANAGER) adds the OUT as a correction:
--                 never closed by itself
--   HALF_LEAVE    an approved half-day leave: the leave half is paid by its type; the other half is
--                 present when the hours worked reach the shift's absent hours (the hours that make a
--                 half day on any other day), else absent; no late mark on such a day (the person comes
--                 or goes at mid-day)
--   ABSENT        no punch, or hours below the shift's absent hours            paid 0
--   HALF_DAY      hours below the half-day hours                              paid 0.5
--   LATE          the first IN after start + grace minutes (to the second)    paid 1
--   PRESENT                                                                   paid 1
-- Hours worked are the sum of the day's IN -> OUT pairs. Loss-of-pay days = days employed in the
-- month - payment days.
--
-- A day is the day a shift starts: a night shift (22:00-06:00) and its punches after midnight belong to
-- the evening it began (hr.work_day), so its late mark is against 22:00 of that day, its hours run across
-- midnight, and the month's last night counts in that month.

-- ---------------------------------------------------------------------------
-- People
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION hr.check_employee() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    boss integer := NEW.manager_id;
    steps integer := 0;
BEGIN
    IF NEW.manager_id = NEW.staff_id THEN
        RETURN NEW;   -- employee_not_own_manager says so
    END IF;
    -- The reporting line never comes back to the person (a cycle of managers).
    WHILE boss IS NOT NULL AND steps < 100 LOOP
        IF boss = NEW.staff_id THEN
            RAISE EXCEPTION 'staff % would report to themselves through their managers', NEW.staff_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'employee_manager_cycle';
        END IF;
        SELECT e.manager_id INTO boss FROM hr.employee e WHERE e.staff_id = boss;
        steps := steps + 1;
    END LOOP;
    IF NEW.shift_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM hr.shift sh JOIN master.staff st ON st.branch_id = sh.branch_id
             WHERE sh.shift_id = NEW.shift_id AND st.staff_id = NEW.staff_id) THEN
        RAISE EXCEPTION 'the shift is of another branch'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'employee_shift_of_branch';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER employee_check BEFORE INSERT OR UPDATE ON hr.employee
    FOR EACH ROW EXECUTE FUNCTION hr.check_employee();

-- A date of leaving on or before today deactivates the staff record (which ends their sessions and
-- their PIN); the record and its history stay.
CREATE OR REPLACE FUNCTION hr.deactivate_leaver() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.left_on IS NOT NULL AND NEW.left_on <= (now() AT TIME ZONE 'Asia/Kolkata')::date THEN
        UPDATE master.staff SET is_active = false WHERE staff_id = NEW.staff_id AND is_active;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER employee_leaver_deactivated AFTER INSERT OR UPDATE OF left_on ON hr.employee
    FOR EACH ROW EXECUTE FUNCTION hr.deactivate_leaver();

CREATE OR REPLACE TRIGGER employee_is_never_deleted BEFORE DELETE ON hr.employee
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER employee_document_is_permanent BEFORE UPDATE OR DELETE ON hr.employee_document
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The shift a person works: their own, else their branch's default (NULL: the branch has none).
CREATE OR REPLACE FUNCTION hr.shift_of(p_staff integer) RETURNS hr.shift
LANGUAGE sql STABLE
AS $$
    SELECT sh.* FROM hr.employee e JOIN master.staff st ON st.staff_id = e.staff_id
      JOIN hr.shift sh ON sh.shift_id = e.shift_id OR (e.shift_id IS NULL AND sh.branch_id = st.branch_id AND sh.is_default)
     WHERE e.staff_id = p_staff
$$;

-- The day a punch at p_at belongs to on a shift from p_starts to p_ends: the Indian date of its time, moved
-- back by the hour at which the shift's day changes. That hour is midnight for a shift that does not cross
-- it (no shift at all: the same); for one that does, it is half-way through the hours off duty (14:00 for
-- 22:00-06:00), so an early arrival, a late one after midnight and the out-punch of the next morning all
-- belong to the evening the shift began.
CREATE OR REPLACE FUNCTION hr.work_day(p_at timestamptz, p_starts time, p_ends time) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((p_at AT TIME ZONE 'Asia/Kolkata')
            - CASE WHEN p_ends < p_starts THEN (p_ends + (p_starts - p_ends) / 2) - time '00:00'
                   ELSE interval '0' END)::date
$$;

-- ---------------------------------------------------------------------------
-- Punches
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION hr.month_is_closed(p_branch integer, p_day date) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM hr.month_close
                    WHERE branch_id = p_branch AND month = date_trunc('month', p_day)::date)
$$;

CREATE OR REPLACE FUNCTION hr.check_punch() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    person record;
    shift hr.shift;
    before_kind text;
    after_kind text;
BEGIN
    IF NEW.terminal_id IS NOT NULL THEN
        -- The server's time, never the terminal's. Only the owner's tools (seed-demo's month of punches)
        -- write a terminal punch with a time of their own.
        IF NOT platform.acting_as_owner() THEN
            NEW.punched_at := now();
        END IF;
        IF NOT EXISTS (SELECT 1 FROM hr.terminal t WHERE t.terminal_id = NEW.terminal_id
                          AND t.branch_id = NEW.branch_id AND t.revoked_at IS NULL) THEN
            RAISE EXCEPTION 'terminal % is not enabled at this branch', NEW.terminal_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_terminal_enabled';
        END IF;
    ELSIF NEW.punched_at > now() THEN
        RAISE EXCEPTION 'a correction cannot be for a time to come'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_not_in_future';
    END IF;
    NEW.recorded_at := now();

    -- One person's punches are written one at a time (their employment row is the lock).
    SELECT e.joined_on, e.left_on, e.manager_id, st.is_active, st.branch_id INTO person
      FROM hr.employee e JOIN master.staff st ON st.staff_id = e.staff_id
     WHERE e.staff_id = NEW.staff_id
       FOR UPDATE OF e;
    -- The day of the person's shift the punch belongs to (a night shift's: the evening it began).
    shift := hr.shift_of(NEW.staff_id);
    NEW.work_day := hr.work_day(NEW.punched_at, shift.starts_at, shift.ends_at);

    -- A correction is marked, in their own name, by the person's reporting manager (any role) or by a
    -- MANAGER or ADMIN who works at the branch; never by the person (punch_not_by_self says so).
    IF NEW.reason IS NOT NULL AND NEW.marked_by IS DISTINCT FROM NEW.staff_id THEN
        IF (audit.current_staff_id() IS NOT NULL AND NEW.marked_by IS DISTINCT FROM audit.current_staff_id())
           OR NOT (NEW.marked_by IS NOT DISTINCT FROM person.manager_id
                   OR EXISTS (SELECT 1 FROM master.staff m
                               WHERE m.staff_id = NEW.marked_by AND m.is_active
                                 AND (m.designation = 'ADMIN'
                                      OR (m.designation = 'MANAGER' AND m.branch_id = NEW.branch_id)
                                      OR master.works_across_branches(m.staff_id)))) THEN
            RAISE EXCEPTION 'a correction for staff % is marked by their reporting manager or a manager', NEW.staff_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_marked_by_manager';
        END IF;
    END IF;
    IF NOT person.is_active OR NEW.work_day < person.joined_on
       OR (person.left_on IS NOT NULL AND NEW.work_day > person.left_on) THEN
        RAISE EXCEPTION 'staff % is not working here on %', NEW.staff_id, NEW.work_day
            USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_by_active_staff';
    END IF;
    IF person.branch_id <> NEW.branch_id THEN
        RAISE EXCEPTION 'staff % punches at their own branch', NEW.staff_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_at_own_branch';
    END IF;
    IF hr.month_is_closed(NEW.branch_id, NEW.work_day) THEN
        RAISE EXCEPTION 'the attendance of % is closed', to_char(NEW.work_day, 'MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_month_open';
    END IF;

    -- Within a day punches alternate, the first an IN: the one before and the one after must be of
    -- the other kind (a correction may be put between two punches already there).
    SELECT p.kind INTO before_kind FROM hr.punch p
     WHERE p.staff_id = NEW.staff_id AND p.work_day = NEW.work_day AND p.punched_at <= NEW.punched_at
     ORDER BY p.punched_at DESC, p.punch_id DESC LIMIT 1;
    SELECT p.kind INTO after_kind FROM hr.punch p
     WHERE p.staff_id = NEW.staff_id AND p.work_day = NEW.work_day AND p.punched_at > NEW.punched_at
     ORDER BY p.punched_at, p.punch_id LIMIT 1;
    IF before_kind = NEW.kind OR (before_kind IS NULL AND NEW.kind = 'OUT') OR after_kind = NEW.kind THEN
        RAISE EXCEPTION 'two % punches in a row', NEW.kind
            USING ERRCODE = 'check_violation', CONSTRAINT = 'punch_alternates';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER punch_check BEFORE INSERT ON hr.punch
    FOR EACH ROW EXECUTE FUNCTION hr.check_punch();

CREATE OR REPLACE TRIGGER punch_is_permanent BEFORE UPDATE OR DELETE ON hr.punch
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Days whose last punch is an IN and that are over by p_now: forgotten out-punches waiting for a
-- correction. A night shift's day is over once the person's next one has begun (hr.work_day), not at
-- midnight, when they are still at work. Only the months from the branch's first one not closed are read
-- (years of closed months are not).
CREATE OR REPLACE FUNCTION hr.open_days(p_branch integer, p_now timestamptz DEFAULT now())
RETURNS TABLE (staff_id integer, work_day date, last_in timestamptz)
LANGUAGE sql STABLE
AS $$
    WITH open_from AS (
        SELECT min(m.month)::date AS first_day
          FROM generate_series(date_trunc('month', (SELECT min(p.work_day) FROM hr.punch p WHERE p.branch_id = p_branch)::timestamp),
                               date_trunc('month', p_now AT TIME ZONE 'Asia/Kolkata'), interval '1 month') AS m (month)
         WHERE NOT EXISTS (SELECT 1 FROM hr.month_close c WHERE c.branch_id = p_branch AND c.month = m.month::date)
    )
    SELECT last.staff_id, last.work_day, last.punched_at
      FROM (SELECT DISTINCT ON (p.staff_id, p.work_day) p.staff_id, p.work_day, p.punched_at, p.kind
              FROM open_from, hr.punch p
             WHERE p.branch_id = p_branch AND p.work_day >= open_from.first_day
               AND p.work_day < (p_now AT TIME ZONE 'Asia/Kolkata')::date
               AND NOT EXISTS (SELECT 1 FROM hr.month_close c   -- hr.month_is_closed, as one anti-join
                                WHERE c.branch_id = p.branch_id AND c.month = date_trunc('month', p.work_day)::date)
             ORDER BY p.staff_id, p.work_day, p.punched_at DESC, p.punch_id DESC) last
      CROSS JOIN LATERAL hr.shift_of(last.staff_id) sh
     WHERE last.kind = 'IN' AND last.work_day < hr.work_day(p_now, sh.starts_at, sh.ends_at)
$$;

-- ---------------------------------------------------------------------------
-- Leave
-- ---------------------------------------------------------------------------
-- Working days of a person from p_from to p_to (their weekly off and their branch's holidays are not
-- counted), halved for a half day.
CREATE OR REPLACE FUNCTION hr.leave_days(p_staff integer, p_from date, p_to date, p_half boolean)
RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT count(*) * CASE WHEN p_half THEN 0.5 ELSE 1 END
      FROM generate_series(p_from, p_to, interval '1 day') AS g(d)
      JOIN master.staff st ON st.staff_id = p_staff
     WHERE extract(isodow FROM g.d) IS DISTINCT FROM (SELECT (hr.shift_of(p_staff)).weekly_off)
       AND NOT EXISTS (SELECT 1 FROM hr.holiday h WHERE h.branch_id = st.branch_id AND h.on_date = g.d::date)
$$;

-- What is left of a leave type for a person in a year: carried in + the year's quota - applied
-- (pending and approved), leaving out one application (the one being checked).
CREATE OR REPLACE FUNCTION hr.leave_balance(p_staff integer, p_code text, p_year integer, p_except integer DEFAULT NULL)
RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT o.days FROM hr.leave_opening o
                      WHERE o.staff_id = p_staff AND o.leave_code = p_code AND o.year = p_year), 0)
         + coalesce((SELECT q.days FROM hr.leave_quota q WHERE q.leave_code = p_code AND q.year = p_year), 0)
         - coalesce((SELECT sum(a.days) FROM hr.leave_application a
                      WHERE a.staff_id = p_staff AND a.leave_code = p_code AND a.status IN ('PENDING', 'APPROVED')
                        AND extract(year FROM a.from_date) = p_year
                        AND a.leave_id IS DISTINCT FROM p_except), 0)
$$;

-- Carry each person's unused days of year p_year - 1 into p_year, up to that year's carry-forward
-- limit of the type; a person already carried keeps what was written. Returns the rows written.
CREATE OR REPLACE FUNCTION hr.carry_forward(p_year integer) RETURNS integer
LANGUAGE sql
AS $$
    WITH carried AS (
        INSERT INTO hr.leave_opening (staff_id, leave_code, year, days)
        SELECT e.staff_id, q.leave_code, p_year,
               least(greatest(hr.leave_balance(e.staff_id, q.leave_code, p_year - 1), 0), q.carry_forward_max)
          FROM hr.employee e
          JOIN master.staff st ON st.staff_id = e.staff_id AND st.is_active
          JOIN hr.leave_quota q ON q.year = p_year - 1 AND q.carry_forward_max > 0
         WHERE e.left_on IS NULL
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM carried
$$;

CREATE OR REPLACE FUNCTION hr.check_leave() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    person record;
    kind record;
    decider record;
    m_day date;
BEGIN
    SELECT e.joined_on, e.left_on, e.manager_id, st.is_active, st.branch_id INTO person
      FROM hr.employee e JOIN master.staff st ON st.staff_id = e.staff_id
     WHERE e.staff_id = NEW.staff_id
       FOR UPDATE OF e;   -- one person's applications are checked one at a time (the balance)
    FOR m_day IN SELECT generate_series(date_trunc('month', NEW.from_date), NEW.to_date, interval '1 month')::date LOOP
        IF hr.month_is_closed(NEW.branch_id, m_day) THEN
            RAISE EXCEPTION 'the attendance of % is closed', to_char(m_day, 'MM-YYYY')
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_month_open';
        END IF;
    END LOOP;

    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'PENDING' THEN
            RAISE EXCEPTION 'an application starts pending'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_status_move';
        END IF;
        IF NOT person.is_active OR NEW.from_date < person.joined_on
           OR (person.left_on IS NOT NULL AND NEW.to_date > person.left_on) THEN
            RAISE EXCEPTION 'staff % is not working here then', NEW.staff_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_by_active_staff';
        END IF;
        IF person.branch_id <> NEW.branch_id THEN
            RAISE EXCEPTION 'an application is the branch''s of the person'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_at_own_branch';
        END IF;
        SELECT * INTO kind FROM hr.leave_type WHERE leave_code = NEW.leave_code;
        IF NOT kind.is_active THEN
            RAISE EXCEPTION 'leave type % is not in use', NEW.leave_code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_type_in_use';
        END IF;
        NEW.days := hr.leave_days(NEW.staff_id, NEW.from_date, NEW.to_date, NEW.half IS NOT NULL);
        IF NEW.days = 0 THEN
            RAISE EXCEPTION 'no working day in the period'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_has_working_days';
        END IF;
        IF kind.has_quota AND NEW.days > hr.leave_balance(NEW.staff_id, NEW.leave_code,
                                                         extract(year FROM NEW.from_date)::integer) THEN
            RAISE EXCEPTION '% days of % are more than the balance', NEW.days, NEW.leave_code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_within_balance';
        END IF;
        NEW.applied_at := now();
        RETURN NEW;
    END IF;

    -- An application's words never change; only its status moves: PENDING -> APPROVED / REJECTED by
    -- the reporting manager (a MANAGER or ADMIN when the person has none), PENDING -> CANCELLED by
    -- the person or the manager, APPROVED -> CANCELLED by the manager while the month is open.
    IF (NEW.branch_id, NEW.staff_id, NEW.leave_code, NEW.from_date, NEW.to_date, NEW.half, NEW.days, NEW.reason, NEW.applied_at)
       IS DISTINCT FROM
       (OLD.branch_id, OLD.staff_id, OLD.leave_code, OLD.from_date, OLD.to_date, OLD.half, OLD.days, OLD.reason, OLD.applied_at) THEN
        RAISE EXCEPTION 'an application''s dates and reason do not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_is_fixed';
    END IF;
    IF NEW.status = OLD.status THEN
        IF (NEW.decided_by, NEW.decided_at, NEW.decision_note) IS DISTINCT FROM (OLD.decided_by, OLD.decided_at, OLD.decision_note) THEN
            RAISE EXCEPTION 'a decision is not changed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_is_fixed';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT ((OLD.status = 'PENDING' AND NEW.status IN ('APPROVED', 'REJECTED', 'CANCELLED'))
            OR (OLD.status = 'APPROVED' AND NEW.status = 'CANCELLED')) THEN
        RAISE EXCEPTION 'leave cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_status_move';
    END IF;
    IF NEW.status = 'CANCELLED' THEN
        NEW.decided_by := OLD.decided_by;
        NEW.decided_at := OLD.decided_at;
        IF OLD.status = 'PENDING' AND audit.current_staff_id() IS NOT DISTINCT FROM NEW.staff_id THEN
            RETURN NEW;
        END IF;
        decider := NULL;
        SELECT staff_id, designation INTO decider FROM master.staff WHERE staff_id = audit.current_staff_id();
    ELSE
        NEW.decided_at := now();
        IF audit.current_staff_id() IS NOT NULL AND NEW.decided_by IS DISTINCT FROM audit.current_staff_id() THEN
            RAISE EXCEPTION 'a decision is recorded in the name of who makes it'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_decided_by_manager';
        END IF;
        SELECT staff_id, designation INTO decider FROM master.staff WHERE staff_id = NEW.decided_by;
    END IF;
    IF audit.current_staff_id() IS NOT NULL AND NOT (
           decider.staff_id IS NOT NULL AND decider.staff_id <> NEW.staff_id
           AND (decider.staff_id = person.manager_id
                OR (person.manager_id IS NULL AND decider.designation IN ('ADMIN', 'MANAGER')))) THEN
        RAISE EXCEPTION 'only the reporting manager decides this leave'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'leave_decided_by_manager';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER leave_check BEFORE INSERT OR UPDATE ON hr.leave_application
    FOR EACH ROW EXECUTE FUNCTION hr.check_leave();

CREATE OR REPLACE TRIGGER leave_is_never_deleted BEFORE DELETE ON hr.leave_application
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- The month's attendance
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION hr.attendance_days(p_branch integer, p_month date, p_now timestamptz DEFAULT now())
RETURNS TABLE (staff_id integer, day date, status text, first_in timestamptz, last_out timestamptz,
               worked_minutes integer, leave_code text, leave_days numeric, paid numeric, corrected boolean)
LANGUAGE sql STABLE
AS $$
    WITH m AS (
        SELECT date_trunc('month', p_month)::date AS first_day,
               (date_trunc('month', p_month) + interval '1 month - 1 day')::date AS last_day
    ), people AS (
        SELECT e.staff_id, greatest(e.joined_on, m.first_day) AS from_day,
               least(coalesce(e.left_on, m.last_day), m.last_day) AS to_day,
               coalesce(sh.starts_at, time '09:30') AS starts_at, coalesce(sh.grace_minutes, 0) AS grace_minutes,
               -- in whole minutes, rounded up: the same comparisons for the whole minutes worked
               ceil(coalesce(sh.half_day_hours, 4) * 60)::integer AS half_day_minutes,
               ceil(coalesce(sh.absent_hours, 2) * 60)::integer AS absent_minutes,
               sh.weekly_off, hr.work_day(p_now, sh.starts_at, sh.ends_at) AS current_day
          FROM m, hr.employee e
          JOIN master.staff st ON st.staff_id = e.staff_id
          LEFT JOIN hr.shift sh ON sh.shift_id = e.shift_id
                 OR (e.shift_id IS NULL AND sh.branch_id = st.branch_id AND sh.is_default)
         WHERE st.branch_id = p_branch AND e.joined_on <= m.last_day
           AND (e.left_on IS NULL OR e.left_on >= m.first_day)
    ), punched AS (
        SELECT p.staff_id, p.work_day,
               min(p.punched_at) FILTER (WHERE p.kind = 'IN') AS first_in,
               max(p.punched_at) FILTER (WHERE p.kind = 'OUT') AS last_out,
               -- Punches alternate from an IN (hr.check_punch): an odd count ends on an IN.
               CASE WHEN count(*) % 2 = 1 THEN 'IN' ELSE 'OUT' END AS last_kind,
               -- the minutes of the IN -> OUT pairs: the OUTs' times less the INs' (in seconds since 1970)
               ((sum(CASE p.kind WHEN 'OUT' THEN date_part('epoch', p.punched_at) ELSE -date_part('epoch', p.punched_at) END)
                 / 60)::numeric)::integer AS worked,
               bool_or(p.reason IS NOT NULL) AS corrected
          FROM m, hr.punch p
         WHERE p.branch_id = p_branch AND p.work_day BETWEEN m.first_day AND m.last_day
         GROUP BY p.staff_id, p.work_day
    ), leaves AS (
        SELECT a.staff_id, a.from_date, a.to_date, a.leave_code, a.half, t.is_paid
          FROM m, hr.leave_application a JOIN hr.leave_type t USING (leave_code)
         WHERE a.branch_id = p_branch AND a.status = 'APPROVED'
           AND a.from_date <= m.last_day AND a.to_date >= m.first_day
    ), days AS (
        SELECT pe.*, dd.d AS day, pu.first_in, pu.last_out, pu.last_kind, pu.corrected,
               CASE WHEN pu.last_kind = 'OUT' THEN pu.worked END AS worked_minutes,
               h.holiday_id IS NOT NULL AS is_holiday, l.leave_code, l.half, l.is_paid
          FROM people pe
          CROSS JOIN LATERAL generate_series(0, pe.to_day - pe.from_day) AS g(n)
          CROSS JOIN LATERAL (SELECT pe.from_day + g.n AS d) dd
          LEFT JOIN punched pu ON pu.staff_id = pe.staff_id AND pu.work_day = dd.d
          LEFT JOIN hr.holiday h ON h.branch_id = p_branch AND h.on_date = dd.d
          LEFT JOIN leaves l ON l.staff_id = pe.staff_id AND dd.d BETWEEN l.from_date AND l.to_date
    ), judged AS (
        SELECT d.*,
               CASE WHEN d.is_holiday THEN 'HOLIDAY'
                    WHEN extract(isodow FROM d.day) = d.weekly_off THEN 'WEEKLY_OFF'
                    WHEN d.leave_code IS NOT NULL AND d.half IS NULL THEN 'LEAVE'
                    WHEN d.day > d.current_day THEN 'FUTURE'
                    WHEN d.day = d.current_day THEN 'TODAY'
                    WHEN d.last_kind = 'IN' THEN 'UNREGULARISED'
                    WHEN d.leave_code IS NOT NULL THEN 'HALF_LEAVE'
                    WHEN d.worked_minutes IS NULL OR d.worked_minutes < d.absent_minutes THEN 'ABSENT'
                    WHEN d.worked_minutes < d.half_day_minutes THEN 'HALF_DAY'
                    -- against the start on the shift's own day (a night shift's 22:00), to the second
                    WHEN d.first_in > (d.day + d.starts_at) AT TIME ZONE 'Asia/Kolkata'
                                      + make_interval(mins => d.grace_minutes) THEN 'LATE'
                    ELSE 'PRESENT' END AS status
          FROM days d
    )
    SELECT j.staff_id, j.day, j.status, j.first_in, j.last_out, j.worked_minutes, j.leave_code,
           CASE j.status WHEN 'LEAVE' THEN 1 WHEN 'HALF_LEAVE' THEN 0.5 ELSE 0 END::numeric AS leave_days,
           CASE j.status
                WHEN 'HOLIDAY' THEN 1 WHEN 'WEEKLY_OFF' THEN 1 WHEN 'PRESENT' THEN 1 WHEN 'LATE' THEN 1
                WHEN 'HALF_DAY' THEN 0.5
                WHEN 'LEAVE' THEN CASE WHEN j.is_paid THEN 1 ELSE 0 END
                WHEN 'HALF_LEAVE' THEN CASE WHEN j.is_paid THEN 0.5 ELSE 0 END
                     + CASE WHEN coalesce(j.worked_minutes, 0) >= j.absent_minutes THEN 0.5 ELSE 0 END
                ELSE 0 END::numeric AS paid,
           coalesce(j.corrected, false)
      FROM judged j
$$;

-- The month per person: what the sheet's totals and the close keep, and each day's status from the first day
-- employed in the month (the sheet's grid: the days are read once for both).
CREATE OR REPLACE FUNCTION hr.attendance_totals(p_branch integer, p_month date, p_now timestamptz DEFAULT now())
RETURNS TABLE (staff_id integer, days_employed integer, present_days numeric, late_marks integer, half_days integer,
               absent_days numeric, leave_days numeric, weekly_offs integer, holidays integer,
               unregularised integer, payment_days numeric, lop_days numeric, from_day date, statuses text[])
LANGUAGE sql STABLE
AS $$
    SELECT d.staff_id, count(*)::integer,
           (count(*) FILTER (WHERE d.status IN ('PRESENT', 'LATE')) + 0.5 * count(*) FILTER (WHERE d.status = 'HALF_DAY')
              + sum(CASE WHEN d.status = 'HALF_LEAVE' THEN d.paid - CASE WHEN t.is_paid THEN 0.5 ELSE 0 END ELSE 0 END))::numeric,
           count(*) FILTER (WHERE d.status = 'LATE')::integer,
           count(*) FILTER (WHERE d.status = 'HALF_DAY')::integer,
           (count(*) FILTER (WHERE d.status IN ('ABSENT', 'UNREGULARISED')) + 0.5 * count(*) FILTER (WHERE d.status = 'HALF_DAY')
              + sum(CASE WHEN d.status = 'HALF_LEAVE' THEN 1 - d.leave_days - (d.paid - CASE WHEN t.is_paid THEN 0.5 ELSE 0 END)
                         ELSE 0 END))::numeric,
           sum(d.leave_days),
           count(*) FILTER (WHERE d.status = 'WEEKLY_OFF')::integer,
           count(*) FILTER (WHERE d.status = 'HOLIDAY')::integer,
           count(*) FILTER (WHERE d.status = 'UNREGULARISED')::integer,
           sum(d.paid),
           (count(*) FILTER (WHERE d.status NOT IN ('FUTURE', 'TODAY')) - sum(d.paid))::numeric,
           min(d.day), array_agg(d.status ORDER BY d.day)
      FROM hr.attendance_days(p_branch, p_month, p_now) d
      LEFT JOIN hr.leave_type t ON t.leave_code = d.leave_code
     GROUP BY d.staff_id
$$;

-- Closing a month (ACCOUNTS / ADMIN): only once it is over, with every forgotten out-punch
-- regularised and no leave of the month still pending; its figures are then kept per person.
CREATE OR REPLACE FUNCTION hr.check_month_close() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    last_day date := (NEW.month + interval '1 month - 1 day')::date;
BEGIN
    -- Over on the calendar, and for every shift of the branch: the month's last night ends next morning.
    IF last_day >= (now() AT TIME ZONE 'Asia/Kolkata')::date
       OR EXISTS (SELECT 1 FROM hr.shift sh WHERE sh.branch_id = NEW.branch_id
                     AND hr.work_day(now(), sh.starts_at, sh.ends_at) <= last_day) THEN
        RAISE EXCEPTION 'the month is not over'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'month_close_after_month_end';
    END IF;
    IF EXISTS (SELECT 1 FROM hr.open_days(NEW.branch_id) o WHERE o.work_day BETWEEN NEW.month AND last_day) THEN
        RAISE EXCEPTION 'forgotten out-punches are not regularised'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'month_close_regularised';
    END IF;
    IF EXISTS (SELECT 1 FROM hr.leave_application a WHERE a.branch_id = NEW.branch_id AND a.status = 'PENDING'
                  AND a.from_date <= last_day AND a.to_date >= NEW.month) THEN
        RAISE EXCEPTION 'leave of the month is still pending'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'month_close_no_pending_leave';
    END IF;
    NEW.closed_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER month_close_check BEFORE INSERT ON hr.month_close
    FOR EACH ROW EXECUTE FUNCTION hr.check_month_close();

CREATE OR REPLACE FUNCTION hr.keep_month_figures() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO hr.month_close_line (branch_id, month, staff_id, days_employed, present_days, late_marks, half_days,
                                     absent_days, leave_days, weekly_offs, holidays, payment_days, lop_days)
    SELECT NEW.branch_id, NEW.month, t.staff_id, t.days_employed, t.present_days, t.late_marks, t.half_days,
           t.absent_days, t.leave_days, t.weekly_offs, t.holidays, t.payment_days, t.lop_days
      FROM hr.attendance_totals(NEW.branch_id, NEW.month) t;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER month_close_keeps_figures AFTER INSERT ON hr.month_close
    FOR EACH ROW EXECUTE FUNCTION hr.keep_month_figures();

CREATE OR REPLACE TRIGGER month_close_is_permanent BEFORE UPDATE OR DELETE ON hr.month_close
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER month_close_line_is_permanent BEFORE UPDATE OR DELETE ON hr.month_close_line
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- What payroll reads: payment days and loss-of-pay days per person of a closed month. A view reads
-- as its owner, past the policies: it carries the branch rule in its own WHERE.
CREATE OR REPLACE VIEW hr.payment_days AS
    SELECT l.branch_id, l.month, l.staff_id, l.days_employed, l.payment_days, l.lop_days
      FROM hr.month_close_line l
     WHERE platform.branch_visible(l.branch_id);
