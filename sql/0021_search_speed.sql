-- Indexes of the stock and sales lists on five years of data (issue 11: no screen slower than
-- 30 ms), each measured with EXPLAIN (ANALYZE, BUFFERS) on generate-history's data set (30,968
-- vehicle units, 30,000 customers, 37,500 enquiries, 30,000 bookings, 28,459 deliveries).
-- The lists read their page in the order of one of these and count at most the rows before it
-- and 1,000 more (webapp/paging.py), instead of reading and sorting every row to count them.

-- Vehicle stock (/inventory/vehicles), ordered by received_on NULLS FIRST, unit_id: the branch's
-- units not yet delivered (the default view, a partial index: delivered units are most of the
-- table), all of the branch's units, and every branch's.
CREATE INDEX vehicle_unit_current_list_idx ON inventory.vehicle_unit (branch_id, received_on NULLS FIRST, unit_id)
    WHERE status IN ('IN_TRANSIT', 'IN_STOCK', 'DEMO', 'ALLOTTED', 'INVOICED');
CREATE INDEX vehicle_unit_list_idx ON inventory.vehicle_unit (branch_id, received_on NULLS FIRST, unit_id);
CREATE INDEX vehicle_unit_all_branches_list_idx ON inventory.vehicle_unit (received_on NULLS FIRST, unit_id);

-- Customers by name (/master/customers): customer_name_idx (text_pattern_ops, for prefix
-- searches) cannot give the order of lower(name) in the database's collation.
CREATE INDEX customer_list_idx ON master.customer (lower(name), customer_id);

-- Enquiries newest first (/sales/enquiries); enquiry_branch_status_idx leads with the status.
CREATE INDEX enquiry_branch_date_idx ON sales.enquiry (branch_id, enquiry_date DESC, enquiry_id DESC);

-- The booking pipeline (/sales/): the deliveries of the last 30 days, not all of them.
CREATE INDEX delivery_date_idx ON sales.delivery (delivered_on);
