"""What other modules may use of the workshop (tests/test_import_contract.py): the subject a
"service_vehicle" panel is drawn for, and the addresses of a vehicle's and a job card's pages.

Panels for the arrival and vehicle pages are registered on the "service_vehicle" slot
(webapp/panels.py) with a context function ``(conn, subject) -> dict | None``; the subject is
``vehicle_subject``'s dict: vehicle_id, unit_id (None: sold elsewhere), vin, registration_no,
variant_id, model_id, sale_date, customer_id, last_odometer_km, last_odometer_on, mfg_month, pack_ids
(every pack the vehicle has held: pack_id, serial, fitted_on, removed_on (None: in it now),
replaced_pack_id), used_free_services (the free-service numbers of its job cards not cancelled, at
this branch: another branch's cards are under its row-level security), open_job_card_id (this
branch's open card, or None).

For the service invoice: ``customer_work_approved(conn, job_card_id)`` is the database's answer
(service.customer_work_approved) to "has the customer approved all the customer-paid work?", and
``billable_lines(conn, job_card_id)`` the lines to bill (service.job_line_billable: parts at what
was issued).
"""
from .subject import job_card_url, vehicle_subject, vehicle_url
from .work_queries import billable_lines, customer_work_approved

__all__ = ["billable_lines", "customer_work_approved", "job_card_url", "vehicle_subject", "vehicle_url"]
