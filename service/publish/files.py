"""Published bytes as files for a front (nginx ``X-Accel-Redirect`` / ``gzip_static``).

A key's file is ``<netloc><path>`` with ``@<canonical query>`` appended when it has one, under
``PUBLISH_DIR``; its gzip copy sits beside it as ``<file>.gz``. Files are replaced atomically
(temp file in the same directory, then ``os.replace``), the ``.gz`` first, and carry the
feed's Last-Modified as their mtime so the front's own Last-Modified agrees with the app's.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit


def relative_name(key: str) -> str:
    """The file of a key, relative to PUBLISH_DIR: ``feeds.example.org/calendar.ics@tz=utc``."""
    parts = urlsplit(key)
    name = parts.netloc + parts.path
    return name + (f"@{parts.query}" if parts.query else "")


def path_of(publish_dir: str, key: str) -> Path:
    """The absolute file of a key, refusing anything that would leave PUBLISH_DIR."""
    root = Path(publish_dir).resolve()
    path = (root / relative_name(key)).resolve()
    if root not in path.parents:
        raise ValueError(f"{key!r} does not name a file under {root}")
    return path


def write_atomically(path: Path, data: bytes, mtime: dt.datetime) -> None:
    """Replace ``path`` with ``data`` in one rename, stamped with ``mtime``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # readable by the front's user
        stamp = int(mtime.timestamp())  # HTTP dates have whole seconds
        os.utime(temporary, (stamp, stamp))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_feed_files(
    publish_dir: str, key: str, body: bytes, gzip_body: bytes, mtime: dt.datetime
) -> Path:
    """Write a feed's file and its ``.gz`` sibling (the ``.gz`` first); return the file."""
    path = path_of(publish_dir, key)
    if _holds(path, body):
        return path  # already there (another publisher, or a restart): keep its ETag
    stamp = file_stamp(path, mtime)
    write_atomically(path.with_name(path.name + ".gz"), gzip_body, stamp)
    write_atomically(path, body, stamp)
    return path


def file_stamp(path: Path, last_modified: dt.datetime) -> dt.datetime:
    """The mtime for a new version of ``path``: the feed's Last-Modified, unless that is not
    a later whole second than the version on disk. nginx's ETag is the mtime in whole seconds
    plus the size, so a new version of the same size (a session moved by a minute) within the
    same second would keep the old ETag and be answered 304; it gets the next second."""
    try:
        before = int(path.stat().st_mtime)
    except FileNotFoundError:
        return last_modified
    if int(last_modified.timestamp()) > before:
        return last_modified
    return dt.datetime.fromtimestamp(before + 1, dt.UTC)


def _holds(path: Path, body: bytes) -> bool:
    """Whether ``path`` already holds exactly ``body``."""
    try:
        return path.stat().st_size == len(body) and path.read_bytes() == body
    except FileNotFoundError:
        return False


def remove_feed_files(publish_dir: str, key: str) -> None:
    """Remove a feed's file and its ``.gz`` (a feed that no longer exists)."""
    path = path_of(publish_dir, key)
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".gz").unlink(missing_ok=True)
