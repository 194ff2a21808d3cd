"""Selling: GST tax invoices and their arithmetic (see billing.tax)."""
