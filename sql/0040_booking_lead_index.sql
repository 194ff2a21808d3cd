-- The bookings of a lead: the lead page shows the booking made from it, and the lead funnel asks of
-- each lead of the period whether it was booked and delivered. sales.booking.lead_id had no index
-- (every such look-up read all the bookings); the stage rides along for the delivered test.
CREATE INDEX booking_lead_idx ON sales.booking (lead_id, stage) WHERE lead_id IS NOT NULL;
