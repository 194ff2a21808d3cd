-- What the reminder run (communication.run_reminders) looks up by date, so a run over every vehicle,
-- policy, booking, lead and customer reads only the rows due in its window.
CREATE INDEX vehicle_next_service_due_idx ON service.vehicle (next_service_due_on)
    WHERE next_service_due_on IS NOT NULL;
CREATE INDEX vehicle_sale_date_idx ON service.vehicle (sale_date);
CREATE INDEX policy_od_to_all_idx ON insurance.policy (od_to) WHERE od_to IS NOT NULL;
CREATE INDEX policy_tp_to_all_idx ON insurance.policy (tp_to) WHERE tp_to IS NOT NULL;
CREATE INDEX booking_expected_delivery_idx ON sales.booking (expected_delivery)
    WHERE expected_delivery IS NOT NULL AND stage IN ('BOOKED', 'ALLOTTED', 'INVOICED');
CREATE INDEX lead_follow_up_on_idx ON crm.lead (follow_up_on)
    WHERE follow_up_on IS NOT NULL AND status NOT IN ('BOOKED', 'LOST');
