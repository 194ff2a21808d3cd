"""The signed-in staff member as Flask-Login sees them (built from the session row)."""
from __future__ import annotations

from flask_login import UserMixin


class StaffUser(UserMixin):
    def __init__(self, row: dict):
        self.staff_id: int = row["staff_id"]
        self.staff_code: str = row["staff_code"]
        self.name: str = row["name"]
        self.role: str = row["role"]
        self.branch_id: int = row["branch_id"]
        self.branch_name: str = row["branch_name"]
        self.branch_code: str = row["branch_code"]
        self.must_change_pin: bool = row["must_change_pin"]

    def get_id(self) -> str:
        return str(self.staff_id)
