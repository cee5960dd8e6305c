"""Import data files into the store (through the write path) and export the store as files.

An import is all-or-nothing: every file is validated first, then everything is written in one
transaction. Import is an upsert by slug, so importing the same files twice changes nothing,
and importing an export is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..domain import rules
from ..domain.keys import round_key
from ..domain.models import Article, Championship, Circuit, Competitor, Entry, Round, Team
from ..domain.timesheet import format_gap, format_time, timing_values
from ..domain.timing import offset_text, session_time, utc_iso
from ..store.data_version import DataState
from ..store.engine import get_store
from ..writes import WriteError, Writer, write
from .datafiles import DataError, DataFile, KnownSlugs, load_and_validate

# Registries first: championships refer to circuits, teams and drivers; articles to all.
_ORDER = {"registry": 0, "championship": 1, "article": 2}


class ImportFailed(Exception):
    """Raised when files do not validate; nothing was written."""

    def __init__(self, errors: list[DataError]) -> None:
        super().__init__(f"{len(errors)} error(s) in data files")
        self.errors = errors


@dataclass
class ImportReport:
    """What an import did."""

    files: int
    changes: int
    data_version: int | None


def known_slugs(session: OrmSession) -> KnownSlugs:
    """The identifiers already in the store, which data files may refer to."""
    rounds = session.execute(select(Championship.slug, Round.number).join(Round.championship))
    return KnownSlugs(
        circuits=set(session.scalars(select(Circuit.slug))),
        zones={
            slug: zone for slug, zone in session.execute(select(Circuit.slug, Circuit.timezone))
        },
        teams=set(session.scalars(select(Team.slug))),
        competitors=set(session.scalars(select(Competitor.slug))),
        championships=set(session.scalars(select(Championship.slug))),
        rounds={round_key(slug, number) for slug, number in rounds},
    )


def validate_paths(app: Flask, paths: list[Path]) -> list[DataError]:
    """Validate files against each other and the store; return every error."""
    with get_store(app).sessions() as session:
        _, errors = load_and_validate(paths, known_slugs(session))
    return errors


def import_paths(
    app: Flask, paths: list[Path], actor: str = "import", mark_seeded: bool = False
) -> ImportReport:
    """Validate and import files in one transaction; raise ImportFailed and write nothing."""
    with write(app, actor=actor) as writer:
        if mark_seeded:
            state = writer.session.get(DataState, 1)
            if state is not None and state.seeded:
                # Another process seeded while this one waited for the write lock.
                return ImportReport(0, 0, None)
        files, errors = load_and_validate(paths, known_slugs(writer.session))
        if errors:
            raise ImportFailed(errors)
        for data_file in sorted(files, key=lambda f: (_ORDER[f.kind], str(f.path))):
            try:
                _apply_file(writer, data_file)
            except WriteError as exc:
                raise ImportFailed(
                    [DataError(str(data_file.path), None, exc.field, exc.message)]
                ) from exc
        if mark_seeded:
            writer.mark_seeded()
        version = writer._version
        return ImportReport(len(files), len(writer.changes), version)


def _apply_file(writer: Writer, data_file: DataFile) -> None:
    doc = data_file.doc
    if data_file.kind == "registry":
        _apply_registry(writer, doc)
    elif data_file.kind == "championship":
        _apply_championship(writer, doc)
    else:
        _apply_article(writer, doc["article"])


def _apply_registry(writer: Writer, doc: dict[str, Any]) -> None:
    for c in doc.get("circuits", []):
        writer.upsert_circuit(
            c["slug"],
            {
                "name": c["name"],
                "locality": c.get("locality"),
                "country_code": c["country"],
                "timezone": c["timezone"],
                "latitude": c.get("latitude"),
                "longitude": c.get("longitude"),
                "length_m": c.get("length_m"),
            },
        )
    for t in doc.get("teams", []):
        writer.upsert_team(t["slug"], {"name": t["name"], "country_code": t.get("country")})
    for p in doc.get("competitors", []):
        writer.upsert_competitor(p["slug"], {"name": p["name"], "country_code": p.get("country")})


def _one(writer: Writer, model: type[Any], slug: str) -> Any:
    return writer.session.scalar(select(model).where(model.slug == slug))


def _apply_championship(writer: Writer, doc: dict[str, Any]) -> None:
    c = doc["championship"]
    championship = writer.upsert_championship(
        c["slug"],
        {
            "name": c["name"],
            "series": c["series"],
            "season": c["season"],
            "short_name": c.get("short_name"),
            "description": c.get("description"),
            "website": c.get("website"),
        },
    )
    entries: dict[str, Entry] = {}
    for e in doc.get("entries", []):
        entries[e["slug"]] = writer.upsert_entry(
            championship,
            e["slug"],
            {
                "team": _one(writer, Team, e["team"]) if e.get("team") else None,
                "car": e.get("car"),
                "number": e.get("number"),
                "car_class": e.get("class"),
            },
            [_one(writer, Competitor, slug) for slug in e["drivers"]],
        )
    for r in doc.get("rounds", []):
        round_ = writer.upsert_round(
            championship,
            r["number"],
            {
                "name": r.get("name"),
                "circuit": _one(writer, Circuit, r["circuit"]),
                "start_date": rules.parse_date(r["start"]),
                "end_date": rules.parse_date(r["end"]),
                "status": r.get("status", "scheduled"),
                "field_size": r.get("field_size"),
                "note": r.get("note"),
            },
        )
        for position, s in enumerate(r.get("sessions", [])):
            session = writer.upsert_session(
                round_,
                s["slug"],
                {
                    "position": position,
                    "name": s["name"],
                    "kind": s["kind"],
                    "local_date": rules.parse_date(s["date"]) if s.get("date") else None,
                    "local_time": rules.parse_time(s["time"]) if s.get("time") else None,
                    "utc_offset": s.get("utc_offset"),
                    "duration_minutes": s.get("duration"),
                    "time_note": s.get("time_note"),
                    "status": s.get("status", "scheduled"),
                },
            )
            if "results" in s:
                res = s["results"]
                lines = [
                    {
                        "entry": entries[line["entry"]],
                        "driver": _one(writer, Competitor, line["driver"])
                        if line.get("driver")
                        else None,
                        "position": line.get("position"),
                        "outcome": line.get("outcome", "classified"),
                        "class_position": line.get("class_position"),
                        "note": line.get("note"),
                        **timing_values(line),
                    }
                    for line in res["lines"]
                ]
                published = rules.parse_instant(res["published"]) if res.get("published") else None
                writer.set_results(
                    session, res.get("status", "published"), lines, published, res.get("note")
                )


def _apply_article(writer: Writer, a: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "title": a["title"],
        "summary": a.get("summary"),
        "author": a.get("author"),
        "body_markdown": a["body"],
        "published_at": rules.parse_instant(a["published"]),
        "status": a.get("status", "published"),
        "note": a.get("note"),
        "championships": a.get("championships", []),
        "rounds": a.get("rounds", []),
        "competitors": a.get("competitors", []),
        "links": a.get("links", []),
    }
    if a.get("updated"):
        fields["updated_at"] = rules.parse_instant(a["updated"])
    writer.upsert_article(a["slug"], fields)


# -- export -------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Writes block-style YAML with multi-line strings as literal blocks."""


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != []}


def export_documents(session: OrmSession) -> dict[str, dict[str, Any]]:
    """The store as data-file documents, keyed by relative file path."""
    docs: dict[str, dict[str, Any]] = {}
    docs["circuits.yaml"] = {
        "circuits": [
            _compact(
                {
                    "slug": c.slug,
                    "name": c.name,
                    "locality": c.locality,
                    "country": c.country_code,
                    "timezone": c.timezone,
                    "latitude": c.latitude,
                    "longitude": c.longitude,
                    "length_m": c.length_m,
                }
            )
            for c in session.scalars(select(Circuit).order_by(Circuit.slug))
        ]
    }
    docs["people.yaml"] = _compact(
        {
            "teams": [
                _compact({"slug": t.slug, "name": t.name, "country": t.country_code})
                for t in session.scalars(select(Team).order_by(Team.slug))
            ],
            "competitors": [
                _compact({"slug": p.slug, "name": p.name, "country": p.country_code})
                for p in session.scalars(select(Competitor).order_by(Competitor.slug))
            ],
        }
    )
    for ch in session.scalars(select(Championship).order_by(Championship.slug)):
        docs[f"championships/{ch.slug}.yaml"] = _championship_document(ch)
    for art in session.scalars(select(Article).order_by(Article.slug)):
        docs[f"articles/{art.slug}.yaml"] = {
            "article": _compact(
                {
                    "slug": art.slug,
                    "title": art.title,
                    "summary": art.summary,
                    "author": art.author,
                    "published": utc_iso(art.published_at),
                    "updated": utc_iso(art.updated_at),
                    "status": art.status,
                    "note": art.note,
                    "championships": art.championships,
                    "rounds": art.rounds,
                    "competitors": art.competitors,
                    "links": art.links,
                    "body": art.body_markdown,
                }
            )
        }
    return docs


def _championship_document(ch: Championship) -> dict[str, Any]:
    return _compact(
        {
            "championship": _compact(
                {
                    "slug": ch.slug,
                    "name": ch.name,
                    "series": ch.series,
                    "short_name": ch.short_name,
                    "season": ch.season,
                    "description": ch.description,
                    "website": ch.website,
                }
            ),
            "entries": [
                _compact(
                    {
                        "slug": e.slug,
                        "team": e.team.slug if e.team else None,
                        "car": e.car,
                        "number": e.number,
                        "class": e.car_class,
                        "drivers": [c.slug for c in e.competitors],
                    }
                )
                for e in ch.entries
            ],
            "rounds": [
                _compact(
                    {
                        "number": r.number,
                        "name": r.name,
                        "circuit": r.circuit.slug,
                        "start": r.start_date.isoformat(),
                        "end": r.end_date.isoformat(),
                        "status": r.status,
                        "field_size": r.field_size,
                        "note": r.note,
                        "sessions": [_session_document(s) for s in r.sessions],
                    }
                )
                for r in ch.rounds
            ],
        }
    )


def _second_occurrence_offset(s: Any) -> str | None:
    start = session_time(s).start_local
    if not s.fold or start is None:
        return None
    offset = start.utcoffset()
    return offset_text(offset) if offset is not None else None


def _session_document(s: Any) -> dict[str, Any]:
    doc = _compact(
        {
            "slug": s.slug,
            "name": s.name,
            "kind": s.kind,
            "date": s.local_date.isoformat() if s.local_date else None,
            "time": s.local_time.strftime("%H:%M") if s.local_time else None,
            # Only the second occurrence of a repeated time needs saying (the first is implied).
            "utc_offset": _second_occurrence_offset(s),
            "duration": s.duration_minutes,
            "time_note": s.time_note,
            "status": s.status,
        }
    )
    if s.results_status != "none":
        doc["results"] = _compact(
            {
                "status": s.results_status,
                "published": utc_iso(s.results_updated_at) if s.results_updated_at else None,
                "note": s.results_note,
                "lines": [
                    _compact(
                        {
                            "entry": r.entry.slug,
                            "driver": r.driver.slug if r.driver else None,
                            "position": r.position,
                            "outcome": r.outcome,
                            "class_position": r.class_position,
                            "note": r.note,
                            "laps": r.laps,
                            "total_time": format_time(r.total_time_ms),
                            "gap": format_gap(r.gap_ms, r.gap_laps),
                            "best_lap": format_time(r.best_lap_ms),
                        }
                    )
                    for r in s.results
                ],
            }
        )
        doc["results"].setdefault("lines", [])
    return doc


def export_dir(session: OrmSession, target: Path) -> list[Path]:
    """Write the store as data files under ``target``; return the files written."""
    written = []
    for rel, doc in export_documents(session).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
