"""What the rest of the app may use of logging in: whether anyone can log in yet (the setup wizard), and the
login's PIN check for the attendance terminal (hr).

The one door into this module (tests/test_import_contract.py)."""
from .queries import any_staff_exists
from .services import check_pin_at_terminal

__all__ = ["any_staff_exists", "check_pin_at_terminal"]
