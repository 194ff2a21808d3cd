"""What other modules may use of master data (branches, staff, the catalog's HSN codes, labour operations and states,
whether a GSTIN's state code is a GST state, the tick-box list field).

The one door into this module: other modules import from here, never from its views, queries or
forms (tests/test_import_contract.py holds every module to it).
"""
from .catalog_forms import ChecklistField
from .catalog_queries import hsn_choices, labour_choices, state_label
from .forms import BRANCH_ERRORS, STAFF_ERRORS, BranchForm, gstin_state_known
from .queries import branch_for_print, get_staff, insert_branch, insert_staff, set_pin, state_name

__all__ = ["BRANCH_ERRORS", "STAFF_ERRORS", "BranchForm", "ChecklistField", "branch_for_print", "get_staff", "gstin_state_known",
           "hsn_choices", "insert_branch", "labour_choices", "insert_staff", "set_pin", "state_label", "state_name"]
