-- The oem schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

-- The price row in force for a variant and colour on a date (the colour's own row first).
CREATE OR REPLACE FUNCTION oem.price_on(p_variant integer, p_colour text, p_on date)
RETURNS SETOF oem.price_list
LANGUAGE sql STABLE
AS $$
    SELECT * FROM oem.price_list
     WHERE variant_id = p_variant AND (colour = p_colour OR colour IS NULL)
       AND master.valid_during(effective_from, effective_to) @> p_on
     ORDER BY colour IS NULL
     LIMIT 1
$$;

-- Subsidy (PM E-DRIVE) for a price row and battery size: FIXED, or per kWh up to the cap,
-- and never above subsidy_cap_pct of the ex-factory price. Rounded down to the rupee.
CREATE OR REPLACE FUNCTION oem.subsidy_amount(p oem.price_list, p_battery_kwh numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$
    SELECT floor(least(
        CASE p.subsidy_rule
            WHEN 'FIXED' THEN p.subsidy_amount
            WHEN 'PER_KWH' THEN least(p.subsidy_per_kwh * p_battery_kwh, p.subsidy_cap)
            ELSE 0 END,
        coalesce(p.ex_factory * p.subsidy_cap_pct / 100, 'Infinity'::numeric)))
$$;
