"""A throw-away PostgreSQL for the benchmarks, and the synthetic data set copied into it.

The server is the CI one (``.ci/postgres.sh``) with its own state directory and port, so it
never meets another engineer's server; it is stopped when the ``with`` block ends, on error
too. The data set is copied table by table from the cached SQLite file (built once through
the write path, ``synthetic.py``), so both databases hold the same rows, ids included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Integer, create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres.sh"
DEFAULT_PORT = 54344
BATCH = 2000  # rows per INSERT batch


@contextmanager
def throwaway_postgres(port: int = DEFAULT_PORT) -> Iterator[str]:
    """Start ``.ci/postgres.sh`` with a TMPDIR of its own on ``port``; yield its SQLAlchemy
    URL; stop it (and remove its state) afterwards, whatever happened."""
    # Readable by the postgres user the script runs the server as when this runs as root.
    state = Path(tempfile.mkdtemp(prefix="gridfeed-bench-pg-"))
    state.chmod(0o755)
    env = {**os.environ, "TMPDIR": str(state), "GRIDFEED_PG_PORT": str(port)}
    try:
        # The port is in the ephemeral range: a client socket of any loopback connection on
        # this busy machine can hold it for a moment ("Address already in use").
        for attempt in range(1, 6):
            started = subprocess.run(
                ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True
            )
            url = started.stdout.strip().rpartition("GRIDFEED_TEST_POSTGRES_URL=")[2]
            if not started.returncode and url:
                break
            log = state / "gridfeed-ci-postgres" / "log"
            server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            print(f"- PostgreSQL did not start (attempt {attempt}): {started.stderr}"
                  f"{server_log}", file=sys.stderr, flush=True)  # fmt: skip
            subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True)
            time.sleep(3)
        else:
            raise RuntimeError("PostgreSQL did not start: see the lines above")
        yield url
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, check=False)
        shutil.rmtree(state, ignore_errors=True)


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database ``name`` on the server; return its URL."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def copy_sqlite(sqlite_file: Path, postgres_url: str) -> dict[str, int]:
    """Copy every table of the app's schema from ``sqlite_file`` into the migrated database at
    ``postgres_url`` (emptied first), then move its id sequences past the copied ids; return
    rows per table. Foreign keys are checked by neither side during the copy (replica role):
    the rows come from a database that checked them."""
    import service  # noqa: F401  (imports every model, so the metadata knows every table)
    from service.store.base import Base

    source = create_engine(f"sqlite:///{sqlite_file}")
    target = create_engine(postgres_url)
    tables = Base.metadata.sorted_tables
    counts: dict[str, int] = {}
    with source.connect() as read, target.begin() as write:
        write.execute(text("SET session_replication_role = replica"))
        names = ", ".join(f'"{t.name}"' for t in tables)
        write.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table in tables:
            counts[table.name] = 0
            result = read.execute(table.select()).mappings()
            while batch := result.fetchmany(BATCH):
                write.execute(table.insert(), [dict(row) for row in batch])
                counts[table.name] += len(batch)
        for table in tables:
            for column in table.primary_key.columns:
                if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                    sequence = f"pg_get_serial_sequence('\"{table.name}\"', '{column.name}')"
                    write.execute(
                        text(
                            f'SELECT setval({sequence}, COALESCE(MAX("{column.name}"), 0) + 1, '
                            f'false) FROM "{table.name}"'
                        )
                    )
    source.dispose()
    target.dispose()
    return counts


def timed_copy(sqlite_file: Path, postgres_url: str) -> tuple[int, float]:
    """``copy_sqlite`` with its row count and seconds."""
    started = time.monotonic()
    counts = copy_sqlite(sqlite_file, postgres_url)
    return sum(counts.values()), time.monotonic() - started
