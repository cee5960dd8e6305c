"""Small helpers shared by tests: copying the data set, editing YAML files, reading the store."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import vobject
import yaml
from flask import Flask
from sqlalchemy import func, select

from service.domain.models import Change
from service.store.data_version import DataState
from service.store.engine import get_store

from .conftest import DATA_DIR


def copy_data(target: Path) -> Path:
    """A writable copy of the shipped data/ directory."""
    shutil.copytree(DATA_DIR, target)
    return target


def edit_yaml(path: Path, edit: Any) -> None:
    """Load a data file, let ``edit(doc)`` change it, and write it back."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def store_counts(app: Flask) -> tuple[int, int]:
    """(number of change entries, data version): both move on every committed write."""
    with get_store(app).sessions() as session:
        changes = session.scalar(select(func.count()).select_from(Change))
        version = session.scalar(select(DataState.version).where(DataState.id == 1))
    return changes or 0, version or 0


def cache_directives(response: Any) -> dict[str, str | None]:
    """The Cache-Control header of a response as {directive: value or None}."""
    directives: dict[str, str | None] = {}
    for part in response.headers["Cache-Control"].split(","):
        name, _, value = part.strip().partition("=")
        directives[name.lower()] = value or None
    return directives


def fresh_vobject(body: str) -> vobject.base.Component:
    """vobject as a new process would read ``body``: vobject keeps the first VTIMEZONE it sees
    for a TZID for the rest of the process (see test_vobject_keeps_the_first_vtimezone), so
    forget this file's TZIDs first, through vobject's public ``registerTzid``."""
    for tzid in re.findall(r"^TZID:(.+?)\r?$", body, flags=re.M):
        vobject.icalendar.registerTzid(tzid, None)
    return vobject.readOne(body)
