"""Screens of the oem module."""
from __future__ import annotations

from . import bp  # noqa: F401
