"""Flask CLI commands: ``flask --app service data ...`` and ``flask --app service db ...``."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .domain import queries
from .ingest.classification import SheetError, import_file
from .ingest.importer import ImportFailed, export_dir, import_paths, validate_paths
from .notify.keys import reseal_stored_secrets
from .stats.daily import close_days, flush, utc_today
from .stats.queries import feed_days
from .store.engine import get_store
from .store.migrate import startup_lock, upgrade
from .writes import WriteError, write

data_cli = AppGroup("data", help="Validate, import and export the data files.")
keys_cli = AppGroup("keys", help="The secret key that seals stored signing secrets.")
db_cli = AppGroup("db", help="Database schema commands.")
results_cli = AppGroup("results", help="Publish results from timing sheets.")

_PATHS = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=False, path_type=Path)
)


def _print_errors(errors: list) -> None:
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"{len(errors)} error(s); nothing was imported.", err=True)


@data_cli.command("validate")
@_PATHS
def validate_command(paths: tuple[Path, ...]) -> None:
    """Check data files; print every error with file, line, field and reason."""
    errors = validate_paths(current_app, list(paths))
    if errors:
        for error in errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(errors)} error(s).", err=True)
        sys.exit(1)
    click.echo("OK: no errors.")


@data_cli.command("import")
@_PATHS
@click.option("--actor", default="import", show_default=True, help="Recorded as the author.")
def import_command(paths: tuple[Path, ...], actor: str) -> None:
    """Import data files in one transaction (upsert by slug); a bad file imports nothing."""
    try:
        report = import_paths(current_app, list(paths), actor=f"import:{actor}")
    except ImportFailed as exc:
        _print_errors(exc.errors)
        sys.exit(1)
    version = f", data version {report.data_version}" if report.data_version else ""
    click.echo(f"Imported {report.files} file(s): {report.changes} change(s){version}.")


@data_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write the store back as data files under DIRECTORY."""
    with get_store(current_app).sessions() as session:
        written = export_dir(session, directory)
    click.echo(f"Wrote {len(written)} file(s) to {directory}.")


@data_cli.command("new-season")
@click.argument("slug")
@click.option("--season", type=int, required=True, help="The new season, e.g. 2024.")
@click.option("--slug", "new_slug", help="The new slug (default: SLUG with the season replaced).")
@click.option("--name", help="The new name (default: the name with the season replaced).")
@click.option("--actor", default="cli", show_default=True, help="Recorded as the author.")
def new_season_command(
    slug: str, season: int, new_slug: str | None, name: str | None, actor: str
) -> None:
    """Copy championship SLUG as next season: entries and rounds, provisional, no results."""
    try:
        with write(current_app, actor=f"cli:{actor}") as writer:
            source = queries.championship_by_slug(writer.session, slug)
            if source is None:
                raise click.ClickException(f"no championship {slug!r}")
            target = new_slug or slug.replace(str(source.season), str(season))
            if target == slug:
                raise click.ClickException("give --slug: SLUG does not contain its season")
            created = writer.copy_championship(source, target, season, name)
            summary = f"{created.slug}: {len(source.entries)} entries, {len(source.rounds)} rounds"
    except WriteError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {summary} (provisional; set the dates and times).")
    click.echo(f"Calendar: /championships/{target}/calendar.ics")


@results_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--championship", required=True, help="Championship slug.")
@click.option("--round", "round_number", type=int, required=True, help="Round number.")
@click.option("--session", "session_slug", required=True, help="Session slug, e.g. race-1.")
@click.option("--dry-run", is_flag=True, help="Show the diff against what is published.")
@click.option("--create-entries", is_flag=True, help="Create entries for unmatched lines.")
@click.option("--actor", default="cli", show_default=True, help="Recorded as the author.")
def results_import_command(
    file: Path,
    championship: str,
    round_number: int,
    session_slug: str,
    dry_run: bool,
    create_entries: bool,
    actor: str,
) -> None:
    """Publish a session's results from a classification sheet (CSV with a header row)."""
    try:
        report = import_file(
            current_app,
            file.read_bytes(),
            championship,
            round_number,
            session_slug,
            dry_run=dry_run,
            create_entries=create_entries,
            actor=f"import:{actor}",
        )
    except SheetError as exc:
        for field, message in exc.problems:
            click.echo(f"{file}: {field}: {message}", err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    except (LookupError, WriteError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.diff:
        click.echo(line)
    for slug in report.created:
        click.echo(f"created entry {slug}")
    if dry_run:
        click.echo(f"Dry run: {len(report.diff)} line(s) would change; nothing was written.")
    elif report.changed:
        click.echo(f"Imported: {len(report.diff)} line(s) changed.")
    else:
        click.echo("Nothing changed: the published results already match the sheet.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply database migrations (the Procfile's release step)."""
    engine = get_store(current_app).engine
    with startup_lock(engine):
        upgrade(engine)
    click.echo("Database is at the latest migration.")


@click.command("stats")
@with_appcontext
@click.option("--championship", default=None, help="Only this championship's feeds.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None)
def stats_command(championship: str | None, start, end) -> None:
    """Print subscriber counts per feed and day (default: the last 30 days)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    flush(app)
    close_days(app)
    last = end.date() if end else utc_today()
    first = start.date() if start else last - dt.timedelta(days=29)
    with get_store(app).sessions() as session:
        rows = feed_days(session, first, last, championship)
    header = ("day", "feed", "direct", "aggregators", "agg. subscribers", "total")
    table = [header] + [
        (d.day.isoformat(), d.feed, d.direct, d.aggregators, d.subscribers, d.total) for d in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        cells = [
            str(v).ljust(w) if i < 2 else str(v).rjust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo("  ".join(cells).rstrip())
    if not rows:
        click.echo(f"No fetches counted from {first} to {last}.")


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Re-seal every stored signing secret under SECRET_KEY, opening each with SECRET_KEY or
    one of SECRET_KEY_FALLBACKS; afterwards the fallbacks can be removed."""
    try:
        count = reseal_stored_secrets(current_app)
    except ValueError as exc:
        raise click.ClickException(f"{exc}; nothing was changed") from None
    click.echo(f"re-sealed {count} stored secret(s) under the current SECRET_KEY.")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(data_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(stats_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(results_cli)
