"""The GST returns' JSON text with amounts exactly as the books hold them.

The standard encoder writes a Decimal only by way of float (1234.50 as 1234.5, and a sum of
floats as 0.30000000000000004). The returns are built of Decimals (returns_queries.amount: two
decimals) and written here: a Decimal as the number it is, digit for digit ("1234.50"), an int
as an int; strings, lists, dicts, booleans and None as json writes them. A float is refused: it
would mean an amount that went through binary arithmetic somewhere."""
from __future__ import annotations

import json
from decimal import Decimal

_string = json.JSONEncoder(ensure_ascii=False).encode


def dumps(value) -> str:
    """Compact JSON (no spaces), as the portal's offline tool writes it."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif isinstance(value, bool):
        out.append("true" if value else "false")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not an amount")
        out.append(f"{value:f}")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"a JSON key must be text, not {key!r}")
            out.append("," if n else "")
            out.append(_string(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for n, item in enumerate(value):
            out.append("," if n else "")
            _write(item, out)
        out.append("]")
    else:   # a float included: see above
        raise TypeError(f"{type(value).__name__} {value!r} has no place in a return's JSON")
