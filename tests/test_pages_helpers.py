"""The shared list-filter and not-found helpers every module's screens use (webapp/pages.py)."""
from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.exceptions import NotFound

from webapp.pages import choice_arg, found_or_404


@pytest.mark.parametrize(("query", "default", "expected"), [
    ("", "active", "active"),                   # missing: the default
    ("?status=inactive", "active", "inactive"),  # one of the choices
    ("?status=bogus", "active", "active"),       # anything else: the default
    ("?status=", "", ""),
    ("?status=bogus", None, None),
    ("", None, None),
])
def test_choice_arg(query, default, expected):
    with Flask(__name__).test_request_context("/list" + query):
        assert choice_arg("status", {"active": "Active", "inactive": "Inactive"}, default) == expected


def test_choice_arg_defaults_to_blank():
    with Flask(__name__).test_request_context("/list?stage=LOST"):
        assert choice_arg("stage", ("BOOKED", "DELIVERED")) == ""
        assert choice_arg("stage", ("BOOKED", "LOST")) == "LOST"


def test_found_or_404():
    row = {"id": 1}
    assert found_or_404(row) is row
    assert found_or_404(0) == 0  # only a missing row is not found
    with pytest.raises(NotFound):
        found_or_404(None)
