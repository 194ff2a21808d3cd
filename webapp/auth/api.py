"""What the rest of the app may use of logging in: whether anyone can log in yet (the setup wizard).

The one door into this module (tests/test_import_contract.py)."""
from .queries import any_staff_exists

__all__ = ["any_staff_exists"]
