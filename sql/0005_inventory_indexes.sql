-- Indexes the stock screens need, measured on 20,000 vehicle units (EXPLAIN ANALYZE, see the
-- inventory report): the vehicle search itself needs none (a substring match anywhere in VIN,
-- motor number or pack serial cannot use a btree, and without pg_trgm a sequential scan of the
-- units stays under ~25 ms), but a unit's history page reads its status changes from the audit
-- trail, which holds every module's changes: without this it scans the whole trail.
CREATE INDEX log_vehicle_unit_idx ON audit.log (row_key, at) WHERE table_name = 'inventory.vehicle_unit';
