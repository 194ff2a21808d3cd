"""What other modules may use of sales: a booking the signed-in user may see, who that limits to,
a document of a booking (receipt, refund, policy) they may see, and the sale's page every document leads back to.

The one door into this module (tests/test_import_contract.py); the sale page's panels from other
modules are registered on its "sale" slot (webapp/panels.py), not imported here.
"""
from .access import booking_or_404, own_only, sale_document_or_404, sale_url

__all__ = ["booking_or_404", "own_only", "sale_document_or_404", "sale_url"]
