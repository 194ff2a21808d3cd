"""A reminder rule with its templates and a call on the branch's call list, so each communication route
of the access matrix opens a real record (an id that does not exist would only ever show the 404 page)."""
from __future__ import annotations

import sqlalchemy as sa


def communication_ids(engine, branch_id: int, customer_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args."""
    with engine.begin() as conn:
        def insert(sql: str, **params):
            return conn.execute(sa.text(sql), params).scalar_one()

        template_id = insert("""
            INSERT INTO communication.template (code, channel, language, body, dlt_template_id)
            VALUES ('MTX_SERVICE', 'SMS', 'en', 'Dear {customer_name}, your service is due on {due_date}.',
                    '1107160000000099999') RETURNING template_id""")
        call_template = insert("""
            INSERT INTO communication.template (code, channel, language, body)
            VALUES ('MTX_SERVICE', 'CALL', 'en', 'Call {customer_name}: service due on {due_date}.')
            RETURNING template_id""")
        rule_id = insert("""
            INSERT INTO communication.rule (event, days_before, channel, template_code)
            VALUES ('SERVICE_DUE', 7, 'SMS', 'MTX_SERVICE') RETURNING rule_id""")
        message_id = insert("""
            INSERT INTO communication.outbox (branch_id, customer_id, channel, to_name, to_address, template_id, body)
            VALUES (:b, :c, 'CALL', 'Matrix Caller', '9845012345', :t, 'Call Matrix Caller: service due on 17-12-2026.')
            RETURNING message_id""", b=branch_id, c=customer_id, t=call_template)
    return {"rule_id": rule_id, "template_id": template_id, "message_id": message_id}
