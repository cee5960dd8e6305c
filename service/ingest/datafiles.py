"""Reading and validating the YAML data files in ``data/``.

Validation reports every problem at once, each with the file, the line, the field and the
reason. It has two layers: the JSON Schema in ``schemas/data.schema.json`` (structure, types,
unknown fields), then the domain rules that need more than one value (time zones, date order,
session days, cross-references, duplicates).

The YAML dialect is deliberately plain: dates and times stay strings (so ``14:00`` is not the
sexagesimal number 840), and only ``true``/``false`` are booleans (so the country code ``NO``
stays Norway).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..domain import rules
from ..domain.choices import (
    MAX_DATA_FILE_ALIASES,
    MAX_DATA_FILE_BYTES,
    MAX_DATA_FILE_DEPTH,
    MAX_DATA_FILE_NODES,
    NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
)
from ..domain.text import check_text
from ..domain.timesheet import parse_gap, parse_time
from ..domain.timing import is_valid_zone

SCHEMA_PATH = Path(__file__).parent / "schemas" / "data.schema.json"
# A result line's timing-sheet strings: (field, parser, an example for the error message).
TIMING_STRINGS = (
    ("total_time", parse_time, "'1:02:03.456'"),
    ("gap", parse_gap, "'+12.345' or '+1 lap'"),
    ("best_lap", parse_time, "'2:01.234'"),
)
Path_ = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class DataError:
    """One problem in one data file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(file)'}: {self.message}"


@dataclass
class DataFile:
    """A parsed data file, with the line of every key for error messages."""

    path: Path
    kind: str  # "championship", "article" or "registry"
    doc: dict[str, Any]
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of ``path``, or of its nearest parent that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def error(self, path: Path_, message: str) -> DataError:
        """A DataError located at ``path`` in this file."""
        return DataError(str(self.path), self.line(path), dotted(path), message)


@dataclass
class KnownSlugs:
    """Identifiers that data files may refer to without defining them (already in the store)."""

    circuits: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    competitors: set[str] = field(default_factory=set)
    championships: set[str] = field(default_factory=set)
    rounds: set[str] = field(default_factory=set)  # "championship/number"
    zones: dict[str, str] = field(default_factory=dict)  # circuit slug -> IANA zone


def dotted(path: Path_) -> str:
    """``("rounds", 1, "start")`` as ``rounds[1].start``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- loading ------------------------------------------------------------------------------


class DataFileLimit(yaml.MarkedYAMLError):
    """A data file past one of the limits (aliases, expanded size, depth), with its line."""


class _DataLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 surprises (sexagesimal, timestamps, yes/no booleans), and
    bounded: at most MAX_DATA_FILE_ALIASES aliases, MAX_DATA_FILE_NODES nodes once aliases are
    expanded (a "billion laughs" file stops at its first level past that), nesting at most
    MAX_DATA_FILE_DEPTH deep (PyYAML's composer recurses once per level), and no alias inside
    the node it names (a cycle the validator would walk forever)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._open_anchors: list[str] = []
        self._sizes: dict[int, int] = {}  # id(node) -> nodes once aliases are expanded

    def _refuse(self, problem: str) -> NoReturn:
        raise DataFileLimit(problem=problem, problem_mark=self.peek_event().start_mark)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_DATA_FILE_ALIASES:
                self._refuse(f"more than {MAX_DATA_FILE_ALIASES} aliases (*name)")
            if event.anchor in self._open_anchors:
                self._refuse(f"alias *{event.anchor} refers to a node that contains it")
            return super().compose_node(parent, index)
        if self._depth >= MAX_DATA_FILE_DEPTH:
            self._refuse(f"nested more than {MAX_DATA_FILE_DEPTH} levels deep")
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if anchor:
            self._open_anchors.append(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor:
                self._open_anchors.pop()
        self._sizes[id(node)] = size = 1 + sum(self._sizes[id(n)] for n in _children(node))
        if size > MAX_DATA_FILE_NODES:
            self._refuse(f"more than {MAX_DATA_FILE_NODES:,} values once aliases are expanded")
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_DataLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in {_INT, _FLOAT, _BOOL, _TIMESTAMP}]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Bounded, so a 5,000-digit run stays a string (a type error) and never meets int()'s limit.
_DataLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]{0,17})$"), list("-+0123456789")
)
_DataLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)
_DataLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|false)$"), list("tf"))


def collect_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand directories to the YAML files below them, sorted so imports are deterministic."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"}))
        else:
            out.append(path)
    return out


def load_file(path: Path) -> tuple[DataFile | None, list[DataError]]:
    """Parse one YAML file and record key lines; return it with any syntax errors."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DATA_FILE_BYTES:
            return None, [
                DataError(name, None, "", f"larger than {MAX_DATA_FILE_BYTES:,} bytes ({size:,})")
            ]
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [DataError(name, None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [DataError(name, None, "", f"cannot read file: {exc}")]
    loader = _DataLoader(text)
    try:
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except DataFileLimit as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return None, [DataError(name, line, "", f"refused: {exc.problem}")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [DataError(name, line, "", f"YAML syntax error: {problem}")]
    finally:
        loader.dispose()
    if not isinstance(doc, dict):
        return None, [DataError(name, 1, "", "the file must be a mapping of fields")]
    data_file = DataFile(path, _kind(doc), doc)
    errors: list[DataError] = []
    _walk(node, (), data_file, errors)
    return data_file, errors


def _kind(doc: dict[str, Any]) -> str:
    if "championship" in doc:
        return "championship"
    if "article" in doc:
        return "article"
    return "registry"


def _walk(node: yaml.Node, path: Path_, data_file: DataFile, errors: list[DataError]) -> None:
    data_file.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                errors.append(
                    DataError(
                        str(data_file.path),
                        line,
                        dotted((*path, key)),
                        "field appears twice in the same mapping",
                    )
                )
            seen.add(key)
            data_file.lines[(*path, key)] = line
            _walk(value_node, (*path, key), data_file, errors)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), data_file, errors)


# -- validation ---------------------------------------------------------------------------


def _validators() -> dict[str, Draft202012Validator]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return {
        kind: Draft202012Validator({**schema, "$ref": f"#/$defs/{kind}_file"})
        for kind in ("championship", "article", "registry")
    }


def schema_errors(data_file: DataFile) -> list[DataError]:
    """Structural errors from the JSON Schema, phrased for people."""
    validator = _validators()[data_file.kind]
    return [
        _describe(data_file, err)
        for err in sorted(validator.iter_errors(data_file.doc), key=lambda e: list(e.path))
    ]


def _describe(data_file: DataFile, err: ValidationError) -> DataError:
    path: Path_ = tuple(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed))
        fld = (*path, extra[0]) if extra else path
        return data_file.error(
            fld, f"unknown field {', '.join(map(repr, extra))}; allowed: {', '.join(allowed)}"
        )
    if err.validator == "required":
        return data_file.error(
            path, err.message.replace("is a required property", "is required but missing")
        )
    if err.validator == "enum":
        return data_file.error(
            path, f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
        )
    if err.validator == "pattern" and path and path[-1] in {"slug", "circuit", "team"}:
        return data_file.error(path, rules.check_slug(str(err.instance)) or err.message)
    if err.validator in {"anyOf", "oneOf"} and err.context:
        best = min(err.context, key=lambda e: len(e.schema_path))
        return DataError(
            str(data_file.path),
            data_file.line(path),
            dotted(path),
            _describe(data_file, best).message,
        )
    return data_file.error(path, err.message)


def validate_files(files: list[DataFile], known: KnownSlugs | None = None) -> list[DataError]:
    """Every schema and domain-rule error across the files (which may refer to each other)."""
    known = known or KnownSlugs()
    errors: list[DataError] = []
    for data_file in files:
        errors.extend(schema_errors(data_file))
    # The domain rules run on every file, even one with schema errors, so that one run reports
    # every mistake; they skip values whose structure the schema has already rejected.
    defined = _defined(files, errors)
    refs = KnownSlugs(
        circuits=known.circuits | defined.circuits,
        teams=known.teams | defined.teams,
        competitors=known.competitors | defined.competitors,
        championships=known.championships | defined.championships,
        rounds=known.rounds | defined.rounds,
        zones={**known.zones, **defined.zones},
    )
    for data_file in files:
        errors.extend(text_errors(data_file))
        if data_file.kind == "registry":
            errors.extend(_registry_errors(data_file))
        elif data_file.kind == "championship":
            errors.extend(_championship_errors(data_file, refs))
        else:
            errors.extend(_article_errors(data_file, refs))
    return sorted(set(errors), key=lambda e: (e.file, e.line or 0, e.field, e.message))


def _defined(files: list[DataFile], errors: list[DataError]) -> KnownSlugs:
    """Collect the slugs the files define, reporting any defined twice."""
    out = KnownSlugs()
    first_seen: dict[tuple[str, str], str] = {}

    def define(kind: str, slug: str, data_file: DataFile, path: Path_, into: set[str]) -> None:
        where = f"{data_file.path}:{data_file.line(path)}"
        if (kind, slug) in first_seen:
            errors.append(
                data_file.error(
                    path,
                    f"duplicate {kind} slug {slug!r} (first defined at {first_seen[kind, slug]})",
                )
            )
        else:
            first_seen[kind, slug] = where
        into.add(slug)

    for f in files:
        doc = f.doc
        if f.kind == "registry":
            for kind, into in (
                ("circuit", out.circuits),
                ("team", out.teams),
                ("competitor", out.competitors),
            ):
                for i, item in _items(doc.get(f"{kind}s")):
                    if isinstance(item.get("slug"), str):
                        define(kind, item["slug"], f, (f"{kind}s", i, "slug"), into)
                        zone = item.get("timezone")
                        if kind == "circuit" and isinstance(zone, str) and is_valid_zone(zone):
                            out.zones[item["slug"]] = zone
        elif f.kind == "championship":
            slug = _mapping(doc.get("championship")).get("slug")
            if not isinstance(slug, str):
                continue
            define("championship", slug, f, ("championship", "slug"), out.championships)
            for i, rnd in _items(doc.get("rounds")):
                if isinstance(rnd.get("number"), int):
                    define(
                        "round", f"{slug}/{rnd['number']}", f, ("rounds", i, "number"), out.rounds
                    )
        else:
            slug = _mapping(doc.get("article")).get("slug")
            if isinstance(slug, str):
                define("article", slug, f, ("article", "slug"), set())
    return out


# The fields that are names (the API's ``_name`` fields): NAME_MAX_LENGTH, not TEXT_MAX_LENGTH.
NAME_FIELDS = frozenset({"name", "series", "locality"})


def text_errors(data_file: DataFile) -> list[DataError]:
    """The one text rule (``domain.text.check_text``) on every string value of the file."""
    errors: list[DataError] = []

    def walk(value: Any, path: Path_) -> None:
        if isinstance(value, str):
            # Names have the API's shorter limit; every other string the general one.
            limit = NAME_MAX_LENGTH if path and path[-1] in NAME_FIELDS else TEXT_MAX_LENGTH
            if problem := check_text(value, limit):
                errors.append(data_file.error(path, problem))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))

    walk(data_file.doc, ())
    return errors


def _registry_errors(f: DataFile) -> list[DataError]:
    errors = []
    for i, circuit in _items(f.doc.get("circuits")):
        zone = circuit.get("timezone")
        if isinstance(zone, str) and (problem := rules.check_zone(zone)):
            errors.append(f.error(("circuits", i, "timezone"), problem))
    return errors


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a list with their indexes; anything malformed is skipped."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _date(f: DataFile, path: Path_, value: Any, errors: list[DataError]) -> Any:
    if not isinstance(value, str):
        return None  # missing, or a wrong type the schema reports
    parsed = rules.parse_date(value)
    if parsed is None:
        errors.append(f.error(path, f"{value!r} is not a valid date (write YYYY-MM-DD)"))
    return parsed


def _championship_errors(f: DataFile, refs: KnownSlugs) -> list[DataError]:
    errors: list[DataError] = []
    doc = f.doc
    entries: dict[str, list[str]] = {}
    for i, entry in _items(doc.get("entries")):
        drivers = _strings(entry.get("drivers"))
        if entry.get("slug") in entries:
            errors.append(
                f.error(("entries", i, "slug"), f"duplicate entry slug {entry['slug']!r}")
            )
        if isinstance(entry.get("slug"), str):
            entries[entry["slug"]] = drivers
        if isinstance(entry.get("team"), str) and entry["team"] not in refs.teams:
            errors.append(f.error(("entries", i, "team"), f"unknown team {entry['team']!r}"))
        for j, driver in enumerate(drivers):
            if driver not in refs.competitors:
                errors.append(
                    f.error(("entries", i, "drivers", j), f"unknown competitor {driver!r}")
                )
        for dup in rules.duplicates(drivers):
            errors.append(f.error(("entries", i, "drivers"), f"driver {dup!r} listed twice"))
    numbers: set[int] = set()
    for i, rnd in _items(doc.get("rounds")):
        here: Path_ = ("rounds", i)
        if rnd.get("number") in numbers:
            errors.append(f.error((*here, "number"), f"duplicate round number {rnd['number']}"))
        if isinstance(rnd.get("number"), int):
            numbers.add(rnd["number"])
        if isinstance(rnd.get("circuit"), str) and rnd["circuit"] not in refs.circuits:
            errors.append(f.error((*here, "circuit"), f"unknown circuit {rnd['circuit']!r}"))
        start = _date(f, (*here, "start"), rnd.get("start"), errors)
        end = _date(f, (*here, "end"), rnd.get("end"), errors)
        if start and end and (problem := rules.check_date_order(start, end)):
            errors.append(f.error((*here, "end"), problem))
        slugs: set[str] = set()
        for j, session in _items(rnd.get("sessions")):
            at: Path_ = (*here, "sessions", j)
            if session.get("slug") in slugs:
                errors.append(f.error((*at, "slug"), f"duplicate session slug {session['slug']!r}"))
            if isinstance(session.get("slug"), str):
                slugs.add(session["slug"])
            day = _date(f, (*at, "date"), session.get("date"), errors)
            if (
                day
                and start
                and end
                and start <= end
                and (problem := rules.check_session_day(day, start, end))
            ):
                errors.append(f.error((*at, "date"), problem))
            if session.get("time") and not session.get("date"):
                errors.append(f.error((*at, "time"), "a time needs a date"))
            circuit = rnd.get("circuit")
            zone_name = refs.zones.get(circuit) if isinstance(circuit, str) else None
            errors.extend(_wall_time_errors(f, at, session, day, zone_name))
            if isinstance(session.get("results"), dict):
                errors.extend(_results_errors(f, (*at, "results"), session["results"], entries))
    return errors


def _wall_time_errors(
    f: DataFile, at: Path_, session: dict[str, Any], day: Any, zone_name: str | None
) -> list[DataError]:
    """The session's wall time must exist in its circuit's zone, and a ``utc_offset`` must name
    one of the occurrences of a repeated time (the write path's rules, with file and line)."""
    raw_time, offset = session.get("time"), session.get("utc_offset")
    time = rules.parse_time(raw_time) if isinstance(raw_time, str) else None
    if zone_name is None or not isinstance(day, dt.date):
        return []
    errors = []
    if time is not None and (problem := rules.check_local_time(day, time, zone_name)):
        errors.append(f.error((*at, "time"), problem))
    elif isinstance(offset, str) and (
        problem := rules.choose_fold(day, time, zone_name, offset)[1]
    ):
        errors.append(f.error((*at, "utc_offset"), problem))
    return errors


def _results_errors(
    f: DataFile, here: Path_, results: dict[str, Any], entries: dict[str, list[str]]
) -> list[DataError]:
    errors: list[DataError] = []
    published = results.get("published")
    if isinstance(published, str) and rules.parse_instant(published) is None:
        errors.append(f.error((*here, "published"), _instant_message(results["published"])))
    positions: list[int] = []
    seen_entries: list[str] = []
    for k, line in _items(results.get("lines")):
        at: Path_ = (*here, "lines", k)
        entry = line.get("entry")
        if not isinstance(entry, str):
            continue
        seen_entries.append(entry)
        if entry not in entries:
            errors.append(f.error((*at, "entry"), f"{entry!r} is not entered in this championship"))
        elif line.get("driver") and line["driver"] not in entries[entry]:
            errors.append(
                f.error((*at, "driver"), f"{line['driver']!r} is not a driver of entry {entry!r}")
            )
        problem = rules.check_result_line(line.get("outcome", "classified"), line.get("position"))
        if problem:
            errors.append(f.error((*at, "position"), problem))
        for name, parse, example in TIMING_STRINGS:
            value = line.get(name)
            if isinstance(value, str) and parse(value) is None:
                errors.append(f.error((*at, name), f"{value!r} is not a time such as {example}"))
        if isinstance(line.get("position"), int):
            positions.append(line["position"])
    for dup in rules.duplicates(positions):
        errors.append(f.error((*here, "lines"), f"position {dup} appears more than once"))
    for dup in rules.duplicates(seen_entries):
        errors.append(f.error((*here, "lines"), f"entry {dup!r} appears more than once"))
    return errors


def _instant_message(value: str) -> str:
    return f"{value!r} is not a date-time with an offset (write e.g. 2023-06-05T12:00:00Z)"


def _article_errors(f: DataFile, refs: KnownSlugs) -> list[DataError]:
    errors: list[DataError] = []
    art = _mapping(f.doc.get("article"))
    for name in ("published", "updated"):
        if isinstance(art.get(name), str) and rules.parse_instant(art[name]) is None:
            errors.append(f.error(("article", name), _instant_message(art[name])))
    for name, known in (
        ("championships", refs.championships),
        ("rounds", refs.rounds),
        ("competitors", refs.competitors),
    ):
        for i, slug in enumerate(art.get(name) if isinstance(art.get(name), list) else []):
            if isinstance(slug, str) and slug not in known:
                errors.append(f.error(("article", name, i), f"unknown {name[:-1]} {slug!r}"))
    return errors


def load_and_validate(
    paths: Iterable[Path], known: KnownSlugs | None = None
) -> tuple[list[DataFile], list[DataError]]:
    """Load every file under ``paths`` and validate them together."""
    files: list[DataFile] = []
    errors: list[DataError] = []
    collected = collect_paths(paths)
    if not collected:
        errors.append(DataError(", ".join(map(str, paths)), None, "", "no .yaml files found"))
    for path in collected:
        data_file, found = load_file(path)
        errors.extend(found)
        if data_file is not None:
            files.append(data_file)
    errors.extend(validate_files(files, known))
    return files, sorted(set(errors), key=lambda e: (e.file, e.line or 0, e.field, e.message))
