-- The workshop's arrival finds delivered scooters that have no workshop record yet by their unit
-- (webapp/service/queries.py): without an index on the delivery's unit that search plans a scan
-- of every delivery (28,459 in the five-year bench data, bench/workshop.py).
CREATE INDEX delivery_unit_idx ON sales.delivery (unit_id);
