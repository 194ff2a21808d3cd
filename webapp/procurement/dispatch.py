"""Reading an OEM's dispatch list (the chassis list that comes with a truck of vehicles).

People paste it from the OEM's e-mail or spreadsheet, upload the CSV / XLSX itself, or build
it one scanned vehicle at a time; all three end up as the same text, which is what the preview
shows and what the confirm step parses again. Nothing here touches the database: this module
only reads the text and checks each value's shape. Row numbers are line numbers of the text,
so they match the spreadsheet's row numbers when it was pasted from its first row.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")          # no I, O or Q (ISO 3779)
SERIAL_RE = re.compile(r"[A-Z0-9][A-Z0-9/-]{3,39}")  # motor, battery pack and charger serials
MAX_ROWS = 2000

# The columns a row may carry, in the order used when a list has no row of column names.
COLUMNS = ("vin", "motor_no", "batteries", "charger_serial", "key_no", "colour", "variant", "mfg_month")
COLUMN_TITLES = {
    "vin": "VIN", "motor_no": "Motor no", "batteries": "Battery serials", "charger_serial": "Charger serial",
    "key_no": "Key no", "colour": "Colour", "variant": "Variant", "mfg_month": "Mfg month",
}
# What OEMs call the columns (lower case, letters and digits only).
_ALIASES = {
    "vin": {"vin", "vinno", "vinnumber", "chassis", "chassisno", "chassisnumber", "vinchassisno", "frameno",
            "framenumber", "chassisvin"},
    "motor_no": {"motor", "motorno", "motornumber", "motorserial", "motorserialno", "motorsno", "motorslno"},
    "charger_serial": {"charger", "chargerno", "chargerserial", "chargerserialno", "chargersno", "chargerslno",
                       "chargernumber"},
    "key_no": {"key", "keyno", "keynumber", "keycode"},
    "colour": {"colour", "color", "colourname", "colorname", "shade", "paint"},
    "variant": {"variant", "model", "modelvariant", "variantname", "modelname", "trim"},
    "mfg_month": {"mfgmonth", "mfg", "mfgdate", "mfd", "monthofmanufacture", "manufacturingmonth",
                  "dateofmanufacture", "mfgmonthyear", "monthyearofmfg", "mfgmmyyyy"},
}
_MONTHS = {m: n for n, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


@dataclass
class DispatchRow:
    """One vehicle of the list, as written, with what is wrong with it."""

    row_no: int
    vin: str = ""
    motor_no: str = ""
    batteries: list[str] = field(default_factory=list)
    charger_serial: str | None = None
    key_no: str | None = None
    colour: str = ""
    variant: str = ""
    mfg_month_text: str = ""
    mfg_month: date | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field title, message)
    # Filled by the check against the purchase order.
    po_line_id: int | None = None
    variant_id: int | None = None
    line_label: str = ""

    def refuse(self, column: str, message: str) -> None:
        self.errors.append((COLUMN_TITLES.get(column, column), message))

    @property
    def messages(self) -> list[str]:
        """'Row 4, VIN: ...' as the preview and the tests read them."""
        return [f"Row {self.row_no}, {title}: {message}" for title, message in self.errors]


@dataclass
class DispatchList:
    rows: list[DispatchRow]
    problems: list[str]  # about the list as a whole (no VIN column, too many rows ...)
    has_header: bool

    @property
    def messages(self) -> list[str]:
        return [*self.problems, *(m for row in self.rows for m in row.messages)]

    @property
    def is_clean(self) -> bool:
        return not self.problems and all(not row.errors for row in self.rows)


def normalise(text: str | None) -> str:
    """The list as the browser sends it back from its text box: line ends \\n, no blank lines around it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _key(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.lower())


def _column_of(title: str) -> str | None:
    key = _key(title)
    if not key:
        return None
    if key.startswith(("battery", "batt", "pack")):  # "Battery 1", "Battery serial 2", "Pack no"
        return "batteries"
    for column, names in _ALIASES.items():
        if key in names:
            return column
    return None


def _delimiter(line: str) -> str:
    for candidate in ("\t", ",", ";", "|"):
        if candidate in line:
            return candidate
    return "\t"


def _cells(line: str, delimiter: str) -> list[str]:
    return [c.strip() for c in next(csv.reader([line], delimiter=delimiter, skipinitialspace=True), [])]


def split_rows(text: str) -> list[tuple[int, list[str]]]:
    """A pasted or uploaded list as (line number, cells) for each line with something on it, the
    cells split as the first line is (tab, comma, semicolon or bar), quotes honoured. Other lists
    written like a dispatch list (an OEM portal's leads) are read with this too."""
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return []
    delimiter = _delimiter(lines[first])
    return [(n + 1, _cells(line, delimiter)) for n, line in enumerate(lines) if line.strip()]


def parse_month(text: str, received_on: date | None = None) -> date | None:
    """'08-2025', '2025-08', 'Aug-2025', 'Aug 25', '01/08/2025' -> 2025-08-01; None when not a month."""
    value = text.strip().lower()
    year = month = None
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ t]00:00(?::00)?)?", value):
        year, month = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(?:(\d{1,2})[-/.])?(\d{1,2})[-/.](\d{4})", value):
        year, month = int(m.group(3)), int(m.group(2))
    elif m := re.fullmatch(r"([a-z]{3,9})[-/ .,']*(\d{2}|\d{4})", value):
        name = m.group(1)[:3]
        if name in _MONTHS and (len(m.group(1)) == 3 or m.group(1) in _full_month_names()):
            month = _MONTHS[name]
            year = int(m.group(2)) + (2000 if len(m.group(2)) == 2 else 0)
    if year is None or month is None or not 1 <= month <= 12 or not 2000 <= year <= 2200:
        return None
    made = date(year, month, 1)
    if received_on is not None and made > received_on:
        return None  # made after it arrived: a typing error
    return made


def _full_month_names() -> set[str]:
    return {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
            "november", "december", "sept"}


def _split_batteries(cells: list[str]) -> list[str]:
    serials = []
    for cell in cells:
        serials.extend(s for s in re.split(r"[\s+;,&]+", cell.upper()) if s)
    return serials


def parse_dispatch_list(text: str, received_on: date | None = None) -> DispatchList:
    """Read the list; each row carries the shape errors of its own values."""
    lines = text.splitlines()
    problems: list[str] = []
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return DispatchList([], [], False)
    delimiter = _delimiter(lines[first])
    titles = _cells(lines[first], delimiter)
    mapped = [_column_of(t) for t in titles]
    has_header = "vin" in mapped or "motor_no" in mapped
    if has_header:
        columns = mapped
        start = first + 1
        for needed in ("vin", "motor_no", "mfg_month"):
            if needed not in columns:
                problems.append(f"Row {first + 1}: the list has no {COLUMN_TITLES[needed]} column "
                                f"(the column names found: {', '.join(t for t in titles if t) or 'none'})")
    else:
        columns = list(COLUMNS)
        start = first
    rows = []
    for n in range(start, len(lines)):
        if not lines[n].strip():
            continue
        if len(rows) == MAX_ROWS:
            problems.append(f"The list has more than {MAX_ROWS} vehicles: receive it in parts")
            break
        rows.append(_read_row(n + 1, _cells(lines[n], delimiter), columns, received_on))
    return DispatchList(rows, problems, has_header)


def _read_row(row_no: int, cells: list[str], columns: list[str | None], received_on: date | None) -> DispatchRow:
    values: dict[str, list[str]] = {}
    for column, cell in zip(columns, cells):
        if column:
            values.setdefault(column, []).append(cell)

    def one(column: str) -> str:
        return next((v for v in values.get(column, []) if v), "")

    row = DispatchRow(row_no=row_no)
    row.vin = one("vin").upper()
    row.motor_no = one("motor_no").upper()
    row.batteries = _split_batteries(values.get("batteries", []))
    row.charger_serial = one("charger_serial").upper() or None
    row.key_no = one("key_no") or None
    row.colour = one("colour")
    row.variant = " ".join(v for v in values.get("variant", []) if v)  # "Model" and "Variant" columns: both
    row.mfg_month_text = one("mfg_month")

    if not row.vin:
        row.refuse("vin", "missing")
    elif not VIN_RE.fullmatch(row.vin):
        row.refuse("vin", f"“{row.vin}” is not a VIN: 17 letters and digits, without I, O or Q "
                          f"({len(row.vin)} characters given)")
    if not row.motor_no:
        row.refuse("motor_no", "missing")
    elif not SERIAL_RE.fullmatch(row.motor_no):
        row.refuse("motor_no", f"“{row.motor_no}” is not a serial number: 4 to 40 letters, digits, / or -")
    if not row.batteries:
        row.refuse("batteries", "missing: every vehicle has at least one battery pack serial")
    for serial in row.batteries:
        if not SERIAL_RE.fullmatch(serial):
            row.refuse("batteries", f"“{serial}” is not a serial number: 4 to 40 letters, digits, / or -")
    if len(set(row.batteries)) < len(row.batteries):
        row.refuse("batteries", "the same pack serial is written twice")
    if row.charger_serial and not SERIAL_RE.fullmatch(row.charger_serial):
        row.refuse("charger_serial", f"“{row.charger_serial}” is not a serial number: 4 to 40 letters, digits, "
                                     "/ or -")
    if row.key_no and len(row.key_no) > 20:
        row.refuse("key_no", "at most 20 characters")
    if not row.mfg_month_text:
        row.refuse("mfg_month", "missing")
    else:
        row.mfg_month = parse_month(row.mfg_month_text, received_on)
        if row.mfg_month is None:
            after = parse_month(row.mfg_month_text) is not None
            row.refuse("mfg_month", f"“{row.mfg_month_text}” is after the receipt date" if after else
                       f"“{row.mfg_month_text}” is not a month: write it like 08-2025, 2025-08 or Aug-2025")
    return row


def read_vin_list(text: str, max_rows: int = 20_000) -> tuple[list[str], list[str]]:
    """Only the VINs of a list written like a dispatch list (an OEM's recall list, pasted or
    uploaded): with a row of column names, its VIN column; without, the first cell of each row,
    where a dispatch list has its VIN. Returns (the VINs, in order and each once; what is wrong,
    'Row 4: ...' by line number)."""
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return [], []
    delimiter = _delimiter(lines[first])
    mapped = [_column_of(t) for t in _cells(lines[first], delimiter)]
    column, start = (mapped.index("vin"), first + 1) if "vin" in mapped else (0, first)
    vins: dict[str, None] = {}
    problems: list[str] = []
    for n in range(start, len(lines)):
        if not lines[n].strip():
            continue
        if len(vins) == max_rows:
            problems.append(f"The list has more than {max_rows:,} VINs: enter it in parts")
            break
        cells = _cells(lines[n], delimiter)
        vin = (cells[column] if column < len(cells) else "").upper()
        if not vin:
            problems.append(f"Row {n + 1}: no VIN")
        elif not VIN_RE.fullmatch(vin):
            problems.append(f"Row {n + 1}: “{vin}” is not a VIN: 17 letters and digits, without I, O or Q "
                            f"({len(vin)} characters given)")
        else:
            vins.setdefault(vin)
    return list(vins), problems


# --------------------------------------------------------------------------- making the text


def vehicle_line(values: dict[str, str]) -> str:
    """One row in the layout this module writes (tab-separated, columns as COLUMNS)."""
    return "\t".join(re.sub(r"[\t\r\n]+", " ", (values.get(c) or "").strip()) for c in COLUMNS)


def header_line() -> str:
    return "\t".join(COLUMN_TITLES[c] for c in COLUMNS)


def in_standard_layout(text: str) -> str:
    """The same list in this module's own layout, line for line, so row numbers stay the same.

    Used before a scanned vehicle is added to a pasted list whose columns are in another order.
    """
    lines = text.splitlines()
    first = next((n for n, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return ""
    delimiter = _delimiter(lines[first])
    titles = _cells(lines[first], delimiter)
    mapped = [_column_of(t) for t in titles]
    has_header = "vin" in mapped or "motor_no" in mapped
    columns = mapped if has_header else list(COLUMNS)
    out = []
    for n, line in enumerate(lines):
        if not line.strip():
            out.append("")
        elif n == first and has_header:
            out.append(header_line())
        else:
            values: dict[str, list[str]] = {}
            for column, cell in zip(columns, _cells(line, delimiter)):
                if column:
                    values.setdefault(column, []).append(cell)
            out.append(vehicle_line({c: " ".join(v for v in values.get(c, []) if v) for c in COLUMNS}))
    return "\n".join(out)  # a list without column names stays without: its rows already are in COLUMNS order


def with_vehicle_added(text: str, values: dict[str, str]) -> str:
    """The list with one more vehicle at its end (a header first when the list was empty)."""
    current = in_standard_layout(text) if text.strip() else header_line()
    return normalise(current.rstrip("\n") + "\n" + vehicle_line(values))


def text_from_upload(filename: str, data: bytes, what: str = "the dispatch list") -> str:
    """A CSV or XLSX file as the text a person would have pasted (tab-separated for XLSX); ``what``
    names the file in the refusal of another kind."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return _xlsx_text(data)
    if name.endswith((".csv", ".txt", ".tsv")):
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise ValueError(f"Upload {what} as a .csv or .xlsx file")


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValueError("This file could not be read as an Excel workbook (.xlsx)") from exc
    try:
        sheet = book.worksheets[0]
        lines = []
        for n, values in enumerate(sheet.iter_rows(values_only=True)):
            if n >= MAX_ROWS + 50:
                break
            lines.append("\t".join(_xlsx_cell(v) for v in values).rstrip("\t"))
        return "\n".join(lines).rstrip("\n")
    finally:
        book.close()


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"  # a date in a "Mfg month" column means its month
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"[\t\r\n]+", " ", str(value)).strip()
