"""The file formats of exports, as a registry: format name → how to write it.

A format is a `Format` in `FORMATS`: its name (what the coordinator types after /export),
the file suffix, the datasets it can carry, and a function that opens a `Writer` on a path
for a `Table`. Writers are fed records in chunks (`write`), from a worker thread, and closed
once (`close`); they never see the database. A new format is a writer class and one more
entry in `FORMATS`; a format that is not a table (CAP 1.2: one XML message per alert, zipped)
writes its whole file itself (`whole`).

Every tabular format puts the column headers in the coordinator's language on the first row
and the HXL hashtags (https://hxlstandard.org) on the second: the hashtags, not the headers,
are what analysts' tools (HXL Proxy, HDX, Kobo, scripts) read, so headers may be translated
and the files still line up. Text that starts like a spreadsheet formula (=, +, -, @) is
stored as text, never as a formula: a typed locality must not run in an analyst's Excel.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from bot.i18n import Translator
from handlers.cap.export import write_cap_export

#: a cell: text, a number, or empty
Value = str | int | float | None
#: one row, by column key
Record = Mapping[str, Value]


@dataclass(frozen=True)
class Column:
    key: str
    #: French header (marked with N_), translated for the file's reader
    header: str
    #: HXL hashtag with attributes, e.g. "#affected+killed"
    hxl: str


@dataclass(frozen=True)
class Table:
    """What a writer is given besides the records."""

    #: the dataset's name ("reports", "participation")
    dataset: str
    columns: tuple[Column, ...]
    #: the reader's translator (headers, sheet name)
    t: Translator
    #: the sheet's name, already translated
    title: str
    #: keys of the latitude and longitude columns, for formats that place records on a map
    point: tuple[str, str] | None = None

    @property
    def headers(self) -> list[str]:
        return [self.t._(column.header) for column in self.columns]

    @property
    def hashtags(self) -> list[str]:
        return [column.hxl for column in self.columns]

    def cells(self, record: Record) -> list[Value]:
        return [record.get(column.key) for column in self.columns]


class Writer(Protocol):
    def write(self, records: Sequence[Record]) -> None:
        """Append records (called from a worker thread, chunk after chunk)."""

    def close(self) -> None:
        """Finish the file; nothing is written after."""


#: a format that is not a table of records writes its whole file itself, from the database:
#: (conn, start, end, path, catalogs, settings) -> how many items it holds
WholeFile = Callable[..., Awaitable[int]]


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    #: None for a `whole` format
    open: Callable[[Path, Table], Writer] | None
    datasets: frozenset[str] = frozenset({"reports", "participation"})
    whole: WholeFile | None = None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_formula_like(value: Value) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_START)


# --- CSV -----------------------------------------------------------------------------------


class CsvWriter:
    """UTF-8 with a byte-order mark: Excel, which most analysts open CSV files with, reads
    accents right only with it; csv readers, pandas and the HXL tools skip it."""

    def __init__(self, path: Path, table: Table) -> None:
        self.table = table
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(table.headers)
        self._csv.writerow(table.hashtags)

    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            self._csv.writerow([_csv_cell(v) for v in self.table.cells(record)])

    def close(self) -> None:
        self._file.close()


def _csv_cell(value: Value) -> Value:
    """A leading apostrophe is how spreadsheets are told "this is text" (OWASP's advice for
    CSV injection)."""
    if value is None:
        return ""
    return "'" + str(value) if _is_formula_like(value) else value


# --- XLSX ----------------------------------------------------------------------------------


class XlsxWriter:
    """openpyxl's write-only mode streams rows to the file instead of keeping a workbook of
    100,000 cells in memory."""

    def __init__(self, path: Path, table: Table) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.path = path
        self.table = table
        self._cell = WriteOnlyCell
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(_sheet_title(table.title))
        self._sheet.freeze_panes = "A3"
        for index, column in enumerate(table.columns, start=1):
            width = max(len(table.t._(column.header)), len(column.hxl), 12) + 2
            self._sheet.column_dimensions[_column_letter(index)].width = min(width, 40)
        bold = Font(bold=True)
        header = []
        for text in table.headers:
            cell = WriteOnlyCell(self._sheet, value=text)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)
        self._sheet.append([self._text(tag) for tag in table.hashtags])

    def _text(self, value: str) -> Any:
        """A cell that stays text even when it starts with "=" (openpyxl would write a
        formula)."""
        cell = self._cell(self._sheet, value=value)
        cell.data_type = "s"
        return cell

    def write(self, records: Sequence[Record]) -> None:
        for record in records:
            self._sheet.append(
                [
                    self._text(v) if _is_formula_like(v) else v  # type: ignore[arg-type]
                    for v in self.table.cells(record)
                ]
            )

    def close(self) -> None:
        self._book.save(self.path)


def _sheet_title(title: str) -> str:
    """Excel refuses sheet names longer than 31 characters or with []:*?/\\ in them."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()
    return cleaned[:31] or "Kibaru"


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --- GeoJSON -------------------------------------------------------------------------------


class GeoJsonWriter:
    """An RFC 7946 FeatureCollection, one Feature per record, streamed feature by feature.

    A record with coordinates is a Point ([longitude, latitude], GeoJSON's order); one placed
    only by its region or cercle has a null geometry (allowed by RFC 7946, and GIS tools keep
    it in the attribute table) rather than a made-up point. Properties are the columns, by
    key; the HXL hashtags are given once, in the collection's "hxl" member, since GeoJSON has
    no header row."""

    def __init__(self, path: Path, table: Table) -> None:
        if table.point is None:
            raise ValueError(f"{table.dataset} has no coordinates for GeoJSON")
        self.table = table
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._first = True
        hxl = {column.key: column.hxl for column in table.columns}
        self._file.write('{"type":"FeatureCollection","hxl":')
        self._file.write(json.dumps(hxl, ensure_ascii=False))
        self._file.write(',"features":[\n')

    def write(self, records: Sequence[Record]) -> None:
        assert self.table.point is not None
        lat_key, lon_key = self.table.point
        for record in records:
            lat, lon = record.get(lat_key), record.get(lon_key)
            geometry = (
                {"type": "Point", "coordinates": [lon, lat]}
                if lat is not None and lon is not None
                else None
            )
            feature = {
                "type": "Feature",
                "id": record.get(self.table.columns[0].key),
                "geometry": geometry,
                "properties": {column.key: record.get(column.key) for column in self.table.columns},
            }
            if not self._first:
                self._file.write(",\n")
            self._first = False
            self._file.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))

    def close(self) -> None:
        self._file.write("\n]}\n")
        self._file.close()


#: every format /export knows, by the name typed after it
FORMATS: dict[str, Format] = {
    "csv": Format("csv", ".csv", CsvWriter),
    "xlsx": Format("xlsx", ".xlsx", XlsxWriter),
    "geojson": Format("geojson", ".geojson", GeoJsonWriter, frozenset({"reports"})),
    # the period's public alerts as CAP 1.2 messages, one XML file each, zipped: what partner
    # platforms load (by validation time, like the webhook that sent them live)
    "cap": Format("cap", ".zip", None, frozenset({"reports"}), whole=write_cap_export),
}

#: other words people type for a format
ALIASES: dict[str, str] = {"excel": "xlsx", "xls": "xlsx", "json": "geojson"}

DEFAULT_FORMAT = "csv"


def find(word: str) -> Format | None:
    name = word.lower().lstrip(".")
    return FORMATS.get(ALIASES.get(name, name))


def for_dataset(dataset: str) -> list[str]:
    """The names of the formats that can carry a dataset, in the registry's order."""
    return [name for name, found in FORMATS.items() if dataset in found.datasets]
