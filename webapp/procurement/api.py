"""What other modules may use of procurement: reading a list written like an OEM's dispatch list
(pasted, or uploaded as CSV / XLSX) - its VINs alone for a recall campaign's list, any such list
as rows of cells (split_rows: the OEM portal's leads), and a month written the ways OEMs write it.

The one door into this module (tests/test_import_contract.py).
"""
from .dispatch import normalise, parse_month, read_vin_list, split_rows, text_from_upload

__all__ = ["normalise", "parse_month", "read_vin_list", "split_rows", "text_from_upload"]
