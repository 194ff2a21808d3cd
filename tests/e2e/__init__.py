"""Browser journeys (Playwright + Debian's Chromium).

This directory is a package so that its conftest is imported as ``e2e.conftest``:
as a bare ``conftest`` it would evict tests/conftest.py from sys.modules and break
``from conftest import ...`` in the test modules collected after it.
"""
