"""Benchmarks of the showroom ERP: server time of the main screens and start-up time.

Run with ``make bench`` (or ``.venv/bin/python -m bench.run_all``); the figures are
written to docs/PERFORMANCE.md. Not part of ``make test``: tests never assert timings.
"""
