"""Bar charts drawn on the server as SVG (no script, no CDN), for the funnel and the lost reasons.
The SoH chart of the workshop (webapp/service/vehicles.py) is a trend line over time, not bars of
counts, so these are drawn here in the same manner: Python works out the coordinates, a Jinja macro
(templates/crm/_chart.html) draws them."""
from __future__ import annotations

BAR_H, GAP, LABEL_W, VALUE_W, WIDTH, PAD = 26, 8, 150, 90, 640, 6


def bar_chart(bars: list[tuple[str, int, str]]) -> dict:
    """Horizontal bars, one per (label, value, note), the longest bar the largest value; the note
    (e.g. "62 % of leads") is written after the value."""
    top = max((value for _, value, _ in bars), default=0) or 1
    inner = WIDTH - LABEL_W - VALUE_W - 2 * PAD
    rows = []
    for n, (label, value, note) in enumerate(bars):
        y = PAD + n * (BAR_H + GAP)
        w = round(inner * value / top, 1) if value else 0
        rows.append({"label": label, "value": value, "note": note, "y": y, "w": w,
                     "text_y": y + BAR_H / 2 + 5, "x": LABEL_W, "value_x": LABEL_W + w + 6})
    return {"w": WIDTH, "h": PAD * 2 + len(bars) * (BAR_H + GAP) - (GAP if bars else 0), "bar_h": BAR_H,
            "label_x": LABEL_W - 8, "rows": rows}


def share(part: int, whole: int) -> str:
    """'62 %' of the whole, to the nearest whole number, a half up ('—' of nothing)."""
    return f"{(200 * part + whole) // (2 * whole)} %" if whole else "—"
