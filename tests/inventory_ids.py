"""A vehicle unit, a transfer in transit to the branch and an open stock count, so each inventory
route of the access matrix opens a real record (an id that does not exist would only ever show
the 404 page)."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa

from webapp.formatting import today_ist
from webapp.inventory import services


def inventory_ids(engine, branch_id: int, part_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args.

    part_id (the catalog's part) is stocked at the branch and on the count sheet, so the count-line
    route finds its line; the transfer comes from another branch, so the branch can receive it."""
    today = today_ist()
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn, colours=("Red",))
        unit_id = b.unit(conn, cat.variant_id, "Red", branch_id, received_on=str(today))
        b.fit_battery(conn, b.battery_pack(conn), unit_id, str(today))
        b.receive(conn, branch_id, part_id, 3, "100.00")
        # A second place of business of the same registration: the transfer travels on a challan.
        other = b.branch(conn, gstin=conn.execute(sa.text("SELECT gstin FROM master.branch WHERE branch_id = :b"),
                                                  {"b": branch_id}).scalar_one())
        b.receive(conn, other, part_id, 2, "100.00")
        travelling = b.unit(conn, cat.variant_id, "Red", other, received_on=str(today))
        transfer_id, _ = services.dispatch_transfer(conn, from_branch=other, to_branch=branch_id,
                                                    parts=[(part_id, 1)], unit_ids=[travelling], notes=None, on=today)
        count_id, _ = services.start_count(conn, branch_id)
    return {"unit_id": unit_id, "transfer_id": transfer_id, "count_id": count_id}
