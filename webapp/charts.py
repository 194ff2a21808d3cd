"""Charts drawn on the server as SVG (no script, no CDN): Python works out the coordinates, a Jinja
macro (templates/_macros/charts.html) draws them. Horizontal bars for counts by a label (the CRM
funnel, the lost reasons); columns by month, stacked by series, for the dashboard's sales by model,
margin per vehicle and service revenue. The SoH chart of the workshop (webapp/service/vehicles.py) is
a trend line over time and is drawn there."""
from __future__ import annotations

from decimal import Decimal

BAR_H, GAP, LABEL_W, VALUE_W, WIDTH, PAD = 26, 8, 150, 90, 640, 6

# Columns: the plot area inside the SVG, and the few colours a stack cycles through (app.css names them).
COL_W, COL_H, COL_TOP, COL_AXIS, SERIES = 640, 220, 14, 34, 6


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


def column_chart(columns: list[str], series: list[tuple[str, list]], shown: list[str]) -> dict:
    """Columns (e.g. months) of stacked series [(name, [value per column])], each column as tall as
    its total against the tallest; ``shown`` is each column's total as written above it (₹ or a count).
    Negative values (a month's margin below cost) are drawn as nothing and said in ``shown``."""
    totals = [sum((max(Decimal(v[i]), Decimal(0)) for _, v in series), Decimal(0)) for i in range(len(columns))]
    top = max(totals, default=Decimal(0)) or Decimal(1)
    slot = (COL_W - 2 * PAD) / max(len(columns), 1)
    bar_w = round(slot * 0.62, 1)
    cols = []
    for i, label in enumerate(columns):
        x = round(PAD + i * slot + (slot - bar_w) / 2, 1)
        base = COL_TOP + COL_H
        parts = []
        for n, (name, values) in enumerate(series):
            value = max(Decimal(values[i]), Decimal(0))
            h = round(float(COL_H * value / top), 1)
            if h:
                base -= h
                parts.append({"y": round(base, 1), "h": h, "cls": f"s{n % SERIES}", "name": name, "value": values[i]})
        cols.append({"label": label, "x": x, "mid": round(x + bar_w / 2, 1), "parts": parts,
                     "shown": shown[i], "shown_y": round(base - 4, 1)})
    return {"w": COL_W, "h": COL_TOP + COL_H + COL_AXIS, "bar_w": bar_w, "axis_y": COL_TOP + COL_H + 20,
            "cols": cols, "legend": [{"name": name, "cls": f"s{n % SERIES}"} for n, (name, _) in enumerate(series)]
            if len(series) > 1 else []}


def share(part: int, whole: int) -> str:
    """'62 %' of the whole, to the nearest whole number, a half up ('—' of nothing)."""
    return f"{(200 * part + whole) // (2 * whole)} %" if whole else "—"
