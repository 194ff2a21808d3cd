"""Data for trying and measuring the ERP, used from the command line only (never by the server).

history.py: `generate-history`, five years of generated stock and sales for benchmarks (and
workshop_history.py: the workshop's job cards and their bills).
demo.py: `seed-demo`, a demo showroom. commands.py defines both commands; wsgi.py adds them to
the app's command line. Depends on webapp; nothing in webapp imports this package
(tests/test_import_contract.py).
"""
