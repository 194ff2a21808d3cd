-- Night shifts, and regularisation by the reporting manager.
--
-- A shift may cross midnight (22:00-06:00: security, the charging bay). Its punches belong to the day the
-- shift starts: a punch's work_day is the Indian date of its time moved back by the hour at which the
-- shift's day changes, half-way through the hours off duty (14:00 for 22:00-06:00; midnight for a shift
-- that does not cross it, as before). hr.check_punch sets it (sql/functions/99_hr.sql, hr.work_day); the
-- table keeps only what holds for every shift: the Indian date of the time, or the day before.
--
-- A correction punch is marked, in their own name, by the person's reporting manager (any role) or a
-- MANAGER / ADMIN of the branch: hr.check_punch refuses anyone else (punch_marked_by_manager).
--
-- hr.attendance_days, hr.attendance_totals and hr.open_days read "now" as a moment, not a date (a night
-- shift's day is not over at midnight): dropped here with their old arguments, made again by the
-- function file (a fresh database has none of them yet: the function files run after every numbered file).

ALTER TABLE hr.shift DROP CONSTRAINT shift_ends_after_start;
ALTER TABLE hr.shift DROP CONSTRAINT shift_thresholds;
ALTER TABLE hr.shift
    ADD CONSTRAINT shift_has_length CHECK (ends_at <> starts_at),
    -- The shift's length wraps past midnight when it ends before it starts.
    ADD CONSTRAINT shift_thresholds CHECK (absent_hours < half_day_hours
        AND half_day_hours <= extract(epoch FROM ends_at - starts_at) / 3600
                              + CASE WHEN ends_at < starts_at THEN 24 ELSE 0 END);

ALTER TABLE hr.punch DROP CONSTRAINT punch_day_is_ist;
ALTER TABLE hr.punch ADD CONSTRAINT punch_day_of_shift CHECK (
    work_day BETWEEN (punched_at AT TIME ZONE 'Asia/Kolkata')::date - 1 AND (punched_at AT TIME ZONE 'Asia/Kolkata')::date);

DROP FUNCTION IF EXISTS hr.attendance_totals(integer, date, date);
DROP FUNCTION IF EXISTS hr.attendance_days(integer, date, date);
DROP FUNCTION IF EXISTS hr.open_days(integer, date);
