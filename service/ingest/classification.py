"""Classification sheets: a timing system's CSV export turned into a session's results.

A sheet has a header row; columns are found by name (``HEADER_ALIASES``, compared with
accents, case and a trailing dot ignored). Lines are matched to the championship's entries
by car number, then by driver names with accents folded ("Backman" matches "Bäckman").
Nothing is written unless every line matched, or ``create_entries`` is given. Importing the
same sheet twice writes nothing the second time (the write path sees no change).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from ..domain.choices import NUMBER_MAX_DIGITS
from ..domain.models import Championship, Competitor, Entry, Session, Team
from ..domain.queries import competitor_by_slug, round_by_number, team_by_slug
from ..domain.text import parse_number
from ..domain.timesheet import fold, format_gap, format_time, parse_gap, parse_time, slugify
from ..writes import WriteError, Writer, write

# Our column → the header names that mean it (folded; compared after ``_header_key``).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "position": ("pos", "position", "p", "rank", "place", "pos overall"),
    "number": ("no", "nr", "num", "number", "#", "car", "car no", "car number", "start no"),
    "drivers": ("drivers", "driver", "driver(s)", "name", "names", "crew"),
    "team": ("team", "entrant", "team name"),
    "laps": ("laps", "lap", "total laps"),
    "total_time": ("total time", "time", "race time", "total", "elapsed"),
    "gap": ("gap", "diff", "difference", "behind", "gap first", "interval"),
    "best_lap": ("best lap", "best", "best time", "best lap time", "fastest lap", "fl"),
    "status": ("status", "result", "state", "classification", "classified"),
    "class": ("class", "cls", "category", "cat"),
}
# Status words of timing systems → our outcomes.
STATUS_WORDS: dict[str, str] = {
    "": "classified",
    "classified": "classified",
    "cla": "classified",
    "fin": "classified",
    "finished": "classified",
    "running": "classified",
    "run": "classified",
    "ok": "classified",
    "dnf": "DNF",
    "ret": "DNF",
    "retired": "DNF",
    "dns": "DNS",
    "did not start": "DNS",
    "dsq": "DSQ",
    "dq": "DSQ",
    "disqualified": "DSQ",
    "exc": "DSQ",
    "nc": "NC",
    "not classified": "NC",
}
# Driver names within one cell: "A / B", "A; B", "A & B".
_DRIVER_SPLIT = re.compile(r"\s*(?:/|;|&|\|)\s*")
MAX_SHEET_LINES = 1000
MAX_LAPS = 100_000  # as the data files' schema
# Control characters other than tab have no place in a timing sheet's cells.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class SheetError(WriteError):
    """A sheet that cannot be imported: every problem, each naming its line."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        field_name, message = problems[0]
        super().__init__(field_name, message)
        self.problems = problems

    @property
    def errors(self) -> list[dict[str, str]]:
        """The problems as ``{field, message}`` items."""
        return [{"field": f, "message": m} for f, m in self.problems]


@dataclass
class SheetLine:
    """One row of a sheet, parsed; ``line`` is its line number in the file."""

    line: int
    position: int | None = None
    number: str | None = None
    drivers: list[str] = field(default_factory=list)
    team: str | None = None
    laps: int | None = None
    total_time_ms: int | None = None
    gap_ms: int | None = None
    gap_laps: int | None = None
    best_lap_ms: int | None = None
    outcome: str = "classified"
    car_class: str | None = None


@dataclass
class SheetImport:
    """What an import did, or would do in a dry run."""

    changed: bool
    diff: list[str]
    created: list[str]


# -- reading --------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The sheet's text: UTF-8 with or without BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SheetError([("(body)", "UTF-16 is not read; save the sheet as UTF-8 CSV")])
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Every byte but five decodes in 1252; those five mean the file is something else.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise SheetError([("(body)", "not UTF-8 nor Windows-1252 text")]) from None


def _header_key(name: str) -> str:
    return fold(name).strip().rstrip(".:").strip()


def map_header(header: list[str]) -> dict[str, int]:
    """Our column name → its index in the sheet; SheetError for a sheet we cannot read."""
    lookup = {alias: ours for ours, aliases in HEADER_ALIASES.items() for alias in aliases}
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        ours = lookup.get(_header_key(name))
        if ours and ours not in columns:
            columns[ours] = index
    if "position" not in columns and "status" not in columns:
        raise SheetError([("line 1", "the header names no POS (or STATUS) column")])
    if "number" not in columns and "drivers" not in columns:
        raise SheetError([("line 1", "the header names neither a NO nor a DRIVERS column")])
    return columns


def read_sheet(data: bytes) -> list[SheetLine]:
    """Parse a classification sheet (dialect sniffed); SheetError names every bad line."""
    text = decode(data)
    if not text.strip():
        raise SheetError([("(body)", "the sheet is empty")])
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows: list[tuple[int, list[str]]] = []
    try:
        # The reader's line number, so a quoted line break does not shift what we report.
        rows.extend((reader.line_num, row) for row in reader)
    except csv.Error as exc:
        raise SheetError([(f"line {reader.line_num}", f"not CSV: {exc}")]) from None
    columns = map_header(rows[0][1])
    lines: list[SheetLine] = []
    problems: list[tuple[str, str]] = []
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if any(_CONTROL.search(cell) for cell in row):
            problems.append((f"line {number}", "a cell holds a control character"))
            continue
        try:
            lines.append(_parse_row(number, row, columns))
        except SheetError as exc:
            problems.extend(exc.problems)
    if len(lines) > MAX_SHEET_LINES:
        problems.append(("(body)", f"at most {MAX_SHEET_LINES} lines"))
    if not lines and not problems:
        problems.append(("(body)", "the sheet has a header but no lines"))
    if problems:
        raise SheetError(problems)
    return lines


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _parse_row(number: int, row: list[str], columns: dict[str, int]) -> SheetLine:
    where = f"line {number}"
    problems: list[tuple[str, str]] = []
    line = SheetLine(line=number)
    position = _cell(row, columns, "position")
    status = _cell(row, columns, "status")
    # The one number rule (ASCII digits, bounded): "²" passes str.isdigit() but not int().
    number = parse_number(position.rstrip("."), 0, 10**NUMBER_MAX_DIGITS - 1)
    if position and number is None:
        # Many sheets put the outcome in the POS column ("DNF").
        status, position = status or position, ""
    if position and number is not None:
        line.position = number
        if not 1 <= line.position <= MAX_SHEET_LINES:
            problems.append((f"{where}.POS", f"position {position} is out of range"))
    outcome = STATUS_WORDS.get(fold(status))
    if outcome is None:
        problems.append((f"{where}.STATUS", f"unknown status {status!r}"))
    else:
        line.outcome = outcome
    if line.outcome == "classified" and line.position is None:
        problems.append((f"{where}.POS", "a classified line needs a position"))
    line.number = _cell(row, columns, "number").lstrip("#") or None
    line.drivers = [d for d in _DRIVER_SPLIT.split(_cell(row, columns, "drivers")) if d]
    line.team = _cell(row, columns, "team") or None
    line.car_class = _cell(row, columns, "class") or None
    laps = _cell(row, columns, "laps")
    if laps:
        count = parse_number(laps, 0, MAX_LAPS)
        if count is not None:
            line.laps = count
        else:
            shown = laps if len(laps) <= 20 else laps[:20] + "…"
            problems.append(
                (f"{where}.LAPS", f"{shown!r} is not a number of laps (0 to {MAX_LAPS:,})")
            )
    for column, label in (("total_time", "TOTAL TIME"), ("gap", "GAP"), ("best_lap", "BEST LAP")):
        value = _cell(row, columns, column)
        if value in {"", "-", "–"}:
            continue
        if column == "best_lap":
            parsed = parse_time(value)
            if parsed is None:
                problems.append((f"{where}.{label}", f"{value!r} is not a lap time"))
            line.best_lap_ms = parsed
            continue
        # A lapped car's TOTAL TIME often reads "+1 Lap": that is its gap.
        gap = parse_gap(value)
        if column == "total_time" and not value.startswith("+") and gap and gap[0] is not None:
            line.total_time_ms = gap[0]
        elif gap is not None:
            line.gap_ms, line.gap_laps = gap
        else:
            problems.append((f"{where}.{label}", f"{value!r} is not a time or a gap"))
    if problems:
        raise SheetError(problems)
    return line


# -- matching and writing ------------------------------------------------------------------


def _number_key(value: str | None) -> str | None:
    return value.strip().lstrip("0") or "0" if value else None


def _name_key(name: str) -> frozenset[str]:
    # Word sets, so "BÄCKMAN Andreas" matches "Andreas Bäckman".
    return frozenset(fold(name).split())


def _names_match(names: list[str], entry: Entry) -> bool:
    """Every name on the line is one of the entry's drivers."""
    known = [_name_key(c.name) for c in entry.competitors]
    return bool(names) and all(_name_key(n) in known for n in names)


def match_entry(line: SheetLine, entries: list[Entry]) -> tuple[Entry | None, str]:
    """The entry a line is about, or None with the reason."""
    if line.number:
        by_number = [e for e in entries if _number_key(e.number) == _number_key(line.number)]
        if len(by_number) == 1:
            entry = by_number[0]
            if line.drivers and not any(
                _name_key(n) in [_name_key(c.name) for c in entry.competitors] for n in line.drivers
            ):
                drivers = " / ".join(c.name for c in entry.competitors)
                return None, f"car {line.number} is entered for {drivers}, not {_who(line)}"
            return entry, ""
    by_names = [e for e in entries if _names_match(line.drivers, e)]
    if len(by_names) == 1:
        return by_names[0], ""
    if len(by_names) > 1:
        return None, f"{_who(line)} drive more than one entry; give the car number"
    car = f"car {line.number}" if line.number else "no car number"
    return None, f"{car} and {_who(line)} match no entry"


def _who(line: SheetLine) -> str:
    return " / ".join(line.drivers) or "no drivers"


def import_sheet(
    writer: Writer,
    session: Session,
    lines: list[SheetLine],
    create_entries: bool = False,
) -> SheetImport:
    """Publish (or correct) ``session``'s results from parsed sheet lines."""
    championship = session.round.championship
    entries = list(championship.entries)
    created: list[str] = []
    problems: list[tuple[str, str]] = []
    result_lines: list[dict[str, Any]] = []
    for line in lines:
        entry, reason = match_entry(line, entries)
        if entry is None and create_entries and line.drivers:
            entry = _create_entry(writer, championship, line)
            entries.append(entry)
            created.append(entry.slug)
        elif entry is None:
            problems.append((f"line {line.line}", reason))
            continue
        result_lines.append(
            {
                "entry": entry,
                "position": line.position,
                "outcome": line.outcome,
                "laps": line.laps,
                "total_time_ms": line.total_time_ms,
                "gap_ms": line.gap_ms,
                "gap_laps": line.gap_laps,
                "best_lap_ms": line.best_lap_ms,
            }
        )
    if problems:
        problems.append(("(body)", f"{len(problems)} line(s) unmatched; nothing was imported"))
        raise SheetError(problems)
    before = _lines_of(session)
    change = writer.set_results(session, "published", result_lines, note=session.results_note)
    after = _lines_of(session)
    return SheetImport(changed=change is not None, diff=diff_lines(before, after), created=created)


def _create_entry(writer: Writer, championship: Championship, line: SheetLine) -> Entry:
    """An entry (and its team and drivers where new) for a line no entry matched."""
    drivers: list[Competitor] = []
    for name in line.drivers:
        slug = slugify(name) or "driver"
        found = competitor_by_slug(writer.session, slug)
        drivers.append(found or writer.upsert_competitor(slug, {"name": name}))
    team: Team | None = None
    if line.team:
        team_slug = slugify(line.team)
        team = team_by_slug(writer.session, team_slug) or writer.upsert_team(
            team_slug, {"name": line.team}
        )
    base = slugify(f"{line.team or ''} {line.number or ''}") or slugify(" ".join(line.drivers))
    slug, n = base, 1
    while any(e.slug == slug for e in championship.entries):
        n += 1
        slug = f"{base}-{n}"
    return writer.upsert_entry(
        championship,
        slug,
        {"team": team, "number": line.number, "car_class": line.car_class},
        drivers,
    )


def _lines_of(session: Session) -> dict[str, str]:
    return {r.entry.slug: _line_text(r) for r in session.results}


def _line_text(result: Any) -> str:
    place = f"P{result.position}" if result.position else "-"
    parts = [place, result.outcome]
    if result.class_position:
        parts.append(f"class P{result.class_position}")
    if result.laps is not None:
        parts.append(f"{result.laps} laps")
    for value in (
        format_time(result.total_time_ms),
        format_gap(result.gap_ms, result.gap_laps),
        format_time(result.best_lap_ms) and f"best {format_time(result.best_lap_ms)}",
    ):
        if value:
            parts.append(value)
    return " ".join(parts)


def diff_lines(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What changes between two classifications, one line per entry: + added, - removed,
    ~ changed."""
    out = []
    for slug in sorted(set(before) | set(after)):
        old, new = before.get(slug), after.get(slug)
        if old is None:
            out.append(f"+ {slug}: {new}")
        elif new is None:
            out.append(f"- {slug}: {old}")
        elif old != new:
            out.append(f"~ {slug}: {old} -> {new}")
    return out


class _RollBack(Exception):
    def __init__(self, report: SheetImport) -> None:
        super().__init__("dry run")
        self.report = report


def import_file(
    app: Flask,
    data: bytes,
    championship: str,
    round_number: int,
    session_slug: str,
    *,
    dry_run: bool = False,
    create_entries: bool = False,
    actor: str = "import:results",
) -> SheetImport:
    """Import a sheet's bytes into one session in one transaction (rolled back on a dry
    run); SheetError names every bad or unmatched line, LookupError an unknown session."""
    lines = read_sheet(data)
    try:
        with write(app, actor=actor) as writer:
            round_ = round_by_number(writer.session, championship, round_number)
            if round_ is None:
                raise LookupError(f"no round {round_number} in championship {championship!r}")
            session = next((s for s in round_.sessions if s.slug == session_slug), None)
            if session is None:
                raise LookupError(f"no session {session_slug!r} in round {round_number}")
            report = import_sheet(writer, session, lines, create_entries=create_entries)
            if dry_run:
                raise _RollBack(report)
    except _RollBack as done:
        return done.report
    return report
