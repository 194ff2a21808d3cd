"""Screens of the inventory module."""
from __future__ import annotations

from . import bp  # noqa: F401
