"""Payroll screens."""
