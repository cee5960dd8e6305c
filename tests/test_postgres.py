"""The same store on a real PostgreSQL: migrations, first-start seed, import, concurrent writes.

`.ci/run` starts a throw-away server and sets GRIDFEED_TEST_POSTGRES_URL; without it these
tests skip (and say so), since there is nothing to connect to.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service import create_app
from service.store.engine import get_store
from service.store.migrate import alembic_config

from .conftest import DATA_DIR, TEST_SECRET_KEY
from .helpers import copy_data, edit_yaml, store_counts

PG_URL = os.environ.get("GRIDFEED_TEST_POSTGRES_URL")
# Outside CI, no server means nothing to test against; in CI (which starts one) it is a failure.
pytestmark = pytest.mark.skipif(
    not PG_URL and not os.environ.get("CI"), reason="GRIDFEED_TEST_POSTGRES_URL is not set"
)


@pytest.fixture(autouse=True)
def _postgres_is_there() -> None:
    if not PG_URL:
        pytest.fail("GRIDFEED_TEST_POSTGRES_URL is not set: .ci/run starts a PostgreSQL")


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"gridfeed_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _app(url: str, **overrides):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "DATA_DIR": str(DATA_DIR),
            "FEED_DOMAIN": "gridfeed.test",
            "SECRET_KEY": TEST_SECRET_KEY,
            "TRUSTED_HOSTS": ["localhost"],
            **overrides,
        }
    )


def test_first_start_migrates_and_seeds_postgres(pg_database: str) -> None:
    app = _app(pg_database)
    command.check(alembic_config(get_store(app).engine))
    client = app.test_client()
    # On PostgreSQL the release step publishes (`flask publish`); until then: not ready.
    assert client.get("/readyz").status_code == 503
    published = app.test_cli_runner().invoke(args=["publish"])
    assert published.exit_code == 0, published.output
    assert client.get("/readyz").status_code == 200
    assert client.get("/healthz").data.startswith(b"ok data_version=1 published=")
    home = client.get("/").get_data(as_text=True)
    assert "GT4 European Series 2023" in home and "Jessica Bäckman" in home
    get_store(app).engine.dispose()


def test_import_is_idempotent_and_all_or_nothing_on_postgres(
    pg_database: str, tmp_path: Path
) -> None:
    app = _app(pg_database)
    runner = app.test_cli_runner()
    before = store_counts(app)
    again = runner.invoke(args=["data", "import", str(DATA_DIR)])
    assert again.exit_code == 0 and "0 change(s)" in again.output
    data = copy_data(tmp_path / "data")
    edit_yaml(
        data / "championships/gt4-european-series-2023.yaml",
        lambda doc: doc["rounds"][0].update(end="2023-04-01"),
    )
    failed = runner.invoke(args=["data", "import", str(data)])
    assert failed.exit_code == 1 and "rounds[0].end" in failed.output
    assert store_counts(app) == before
    get_store(app).engine.dispose()


def test_concurrent_writers_get_distinct_versions_on_postgres(pg_database: str) -> None:
    import datetime as dt

    from sqlalchemy import select

    from service.domain.models import Championship, Round
    from service.writes import write

    app = _app(pg_database)
    _, version = store_counts(app)
    errors: list[BaseException] = []

    def add(slug: str) -> None:
        try:
            with write(app, actor=slug) as w:
                champ = w.session.scalar(
                    select(Championship).where(Championship.slug == "gt4-european-series-2023")
                )
                round_ = w.session.scalar(
                    select(Round).where(Round.championship == champ, Round.number == 3)
                )
                w.upsert_session(
                    round_, slug, {"name": slug, "kind": "test", "local_date": dt.date(2023, 6, 30)}
                )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f"test-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert store_counts(app)[1] == version + 4
    get_store(app).engine.dispose()


def test_notifications_on_postgres_claim_with_skip_locked_and_send_once(
    pg_database: str,
) -> None:
    import datetime as dt

    from service.notify import queue, reminders
    from service.notify.worker import Worker

    from .notify_helpers import (
        FAST,
        ROUND_2,
        delivery_log,
        new_token,
        patch_session,
        running_worker,
        subscribe,
    )
    from .receivers import receiving, wait_for
    from .test_reminders import _create_weekend

    app = _app(pg_database, **FAST)
    client, token = app.test_client(), new_token(app)
    with receiving() as receiver:
        sub = subscribe(client, token, receiver.url, ["session.changed"])
        for minute in range(12):
            patch_session(
                client, token, f"{ROUND_2}/sessions/race-1", local_time=f"14:{minute:02d}"
            )
        # The worker expands the writes' fan-out outbox into the deliveries (one per change).
        assert Worker(app).fan_out() == 12
        # Four claimers at once: FOR UPDATE SKIP LOCKED hands each delivery to one of them.
        claimed: list[list[int]] = []
        now = dt.datetime.now(dt.UTC)
        threads = [
            threading.Thread(target=lambda i=i: claimed.append(queue.claim(app, f"w{i}", 3, now)))
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        ids = [i for batch in claimed for i in batch]
        assert len(ids) == len(set(ids)) == 12

        # Those claimers never finish. Two real workers, running on a clock past the leases
        # (120 s), take their deliveries over.
        def later() -> dt.datetime:
            return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=150)

        with running_worker(app, 3, later), running_worker(app, 3, later):
            wait_for(lambda: len(receiver.posts()) >= 12, what="twelve deliveries")
            wait_for(
                lambda: all(d["status"] == "delivered" for d in delivery_log(client, token, sub))
            )
        posts = receiver.posts()
        assert len(posts) == 12 and len({p.headers["webhook-id"] for p in posts}) == 12

        # Reminders use INSERT .. ON CONFLICT DO NOTHING on PostgreSQL: planned once.
        _create_weekend(client, token)
        subscribe(
            client, token, receiver.url, ["session.starting_soon"], championship="reminder-cup"
        )
        now = dt.datetime.now(dt.UTC)
        assert reminders.plan_reminders(app, now) == 1
        assert reminders.plan_reminders(app, now) == 0
    get_store(app).engine.dispose()


def test_feed_counts_from_two_processes_are_distinct_on_postgres(pg_database: str) -> None:
    """Two apps (two web processes) count the same fetchers; the flushes' insert-or-ignore
    and an aggregator's greatest-reported upsert give one count on PostgreSQL."""
    from service.notify.worker import Worker

    from .conftest import new_token

    first, second = _app(pg_database), _app(pg_database, AUTO_SEED=False)
    path = "/championships/gt4-european-series-2023/calendar.ics"
    for app, feedly in ((first, 50), (second, 70)):
        client = app.test_client()
        for address in ("203.0.113.1", "203.0.113.2"):
            client.get(
                path, headers={"User-Agent": "Thunderbird"}, environ_base={"REMOTE_ADDR": address}
            )
        client.get(
            path,
            headers={
                "User-Agent": f"Feedly/1.0 (+http://www.feedly.com/fetcher.html; {feedly} "
                "subscribers; )"
            },
        )
        Worker(app).run_once()
    token = new_token(first)
    (row,) = (
        first.test_client()
        .get("/api/v1/stats/feeds", headers={"Authorization": f"Bearer {token}"})
        .json["items"]
    )
    assert (row["direct"], row["aggregators"], row["aggregator_subscribers"]) == (2, 1, 70)
    for app in (first, second):
        get_store(app).engine.dispose()


def test_publish_jobs_on_postgres_are_claimed_once_and_served_by_every_instance(
    pg_database: str,
) -> None:
    import datetime as dt

    import vobject
    from sqlalchemy import select

    from service.domain.models import Championship, Round
    from service.publish import jobs, publisher
    from service.writes import write

    gt4 = "gt4-european-series-2023"
    instance_a = _app(pg_database)
    assert instance_a.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    instance_b = _app(pg_database, FEED_VERSION_RECHECK_SECONDS=0)
    reader = instance_b.test_client()
    with get_store(instance_a).sessions() as session:
        numbers = session.scalars(
            select(Round.number).join(Championship).where(Championship.slug == gt4)
        ).all()
    before = {n: reader.get(f"/championships/{gt4}/rounds/{n}.ics").data for n in numbers}
    for number in numbers:
        with write(instance_a, actor="test") as w:
            champ = w.session.scalar(select(Championship).where(Championship.slug == gt4))
            round_ = w.session.scalar(
                select(Round).where(Round.championship == champ, Round.number == number)
            )
            w.upsert_session(round_, "shakedown", {"name": "Shakedown", "kind": "test"})
    # Nothing publishes in the web process on PostgreSQL: instance B still serves the old bytes.
    for number in numbers:
        assert reader.get(f"/championships/{gt4}/rounds/{number}.ics").data == before[number]
    # Four claimers at once: FOR UPDATE SKIP LOCKED hands each job to one of them.
    claimed: list[tuple[str, list[jobs.Claimed]]] = []
    now = dt.datetime.now(dt.UTC)
    threads = [
        threading.Thread(
            target=lambda i=i: claimed.append((f"w{i}", jobs.claim(instance_a, f"w{i}", 2, now)))
        )
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    scopes = [job.scope for _, batch in claimed for job in batch]
    assert len(scopes) == len(set(scopes)) == min(len(numbers), 8)
    for worker, batch in claimed:
        jobs.release(instance_a, batch, worker)
    # Two workers drain the queue together; every job is published once.
    done: list[int] = []
    workers = [
        threading.Thread(target=lambda i=i: done.append(publisher.drain(instance_a, f"p{i}")))
        for i in range(2)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert sum(done) == len(numbers)
    for number in numbers:
        body = reader.get(f"/championships/{gt4}/rounds/{number}.ics").data
        description = vobject.readOne(body.decode()).vevent.description.value
        assert "Shakedown" in description, number
    get_store(instance_a).engine.dispose()
    get_store(instance_b).engine.dispose()


def test_processes_starting_together_on_a_fresh_postgres_database_all_come_up(
    pg_database: str,
) -> None:
    # Issue 14: migrations and the first-start seed run under an advisory lock.
    import subprocess
    import sys

    from .conftest import REPO_ROOT

    env = {
        **os.environ,
        "DATABASE_URL": pg_database,
        "GRIDFEED_DATA_DIR": str(DATA_DIR),
        # A production-shaped start refuses to guess its public address (issue 13).
        "GRIDFEED_PUBLIC_BASE_URL": "http://127.0.0.1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", "tokens", "create", f"t{i}"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=180)[0] for p in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-3000:]
    app = _app(pg_database, AUTO_SEED=False)
    assert app.test_client().get("/healthz").data.startswith(b"ok data_version=1 published=")
    get_store(app).engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/championships/a%00b",
        "/competitors/a%00b/calendar.ics",
        "/news/a%00b",
        "/api/v1/articles/a%00b",
        "/api/v1/championships/a%01b/rounds",
    ],
)
def test_control_characters_in_paths_are_404_on_postgres(pg_database: str, path: str) -> None:
    # Issue 14: PostgreSQL refuses NUL in text; a path holding one names nothing we serve.
    app = _app(pg_database)
    response = app.test_client().get(path)
    assert response.status_code == 404, response.data[:300]
    get_store(app).engine.dispose()


def test_control_characters_in_headers_are_4xx_on_postgres(pg_database: str) -> None:
    from .conftest import new_token

    app = _app(pg_database)
    token = new_token(app)
    client = app.test_client()
    body = {"slug": "nul", "title": "t", "body_markdown": "x"}
    bad_token = {"Authorization": "Bearer gf_a\x00b_c"}
    assert client.post("/api/v1/articles", json=body, headers=bad_token).status_code == 401
    bad_key = {"Authorization": f"Bearer {token}", "Idempotency-Key": "a\x00b"}
    assert client.post("/api/v1/articles", json=body, headers=bad_key).status_code == 400
    get_store(app).engine.dispose()


def test_a_season_through_the_api_on_postgres(pg_database: str) -> None:
    from .conftest import new_token
    from .test_seasons import NEW, SHEET, SeasonActions

    app = _app(pg_database, AUTO_SEED=False)
    # The release step: before the first publication, default feeds answer 503.
    assert app.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    actions = SeasonActions(app.test_client(), new_token(app))
    actions.build_2024()
    path = f"/championships/{NEW}/rounds/1/sessions/race-1"
    assert actions.sheet(path, SHEET).json["changed"] is True
    counts = store_counts(app)
    assert actions.sheet(path, SHEET).json["changed"] is False
    assert store_counts(app) == counts
    moved = actions.patch("/competitors/max-muster", {"slug": "max-mustermann"})
    assert moved.json["slug"] == "max-mustermann"
    old = actions.client.get("/competitors/max-muster/calendar.ics")
    assert old.status_code == 301
    assert old.headers["Location"] == "http://localhost/competitors/max-mustermann/calendar.ics"
    assert actions.delete("/teams/nordic-motorsport").status_code == 409
    copy = actions.post(f"/championships/{NEW}/copy", {"slug": "gt4-2025", "season": 2025})
    assert copy["rounds"] == [1]
    get_store(app).engine.dispose()


def test_two_workers_on_postgres_expand_every_change_once(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers expand the fan-out outbox at once (FOR UPDATE SKIP LOCKED): every change
    reaches every subscription exactly once, in the order of the changes."""
    from service.notify import fanout
    from service.notify.worker import Worker

    from .notify_helpers import (
        FAST,
        ROUND_2,
        delivery_log,
        new_token,
        patch_session,
        running_worker,
        subscribe,
    )
    from .receivers import receiving, wait_for

    # One outbox row per expansion transaction: the two workers contend for every row.
    monkeypatch.setattr(fanout, "EXPAND_ROWS", 1)
    app = _app(pg_database, **FAST)
    client, token = app.test_client(), new_token(app)
    times = [f"16:{minute:02d}" for minute in range(15)]
    with receiving() as receiver:
        subs = [subscribe(client, token, receiver.url, ["session.changed"]) for _ in range(3)]
        for local_time in times:
            patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time=local_time)
        assert all(delivery_log(client, token, sub) == [] for sub in subs)
        # Two workers reach for the oldest waiting row at the same moment, round after round.
        workers, barrier, expanded = [Worker(app), Worker(app)], threading.Barrier(2), []

        def expand(worker: Worker) -> None:
            for _round in range(len(times) + 1):
                barrier.wait(30)
                expanded.append(worker.fan_out())

        threads = [threading.Thread(target=expand, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sum(expanded) == len(times)  # each row was expanded by one of them, once
        with running_worker(app, 2), running_worker(app, 2):
            wait_for(lambda: len(receiver.posts()) >= 45, what="45 deliveries")
            wait_for(
                lambda: all(
                    d["status"] == "delivered"
                    for sub in subs
                    for d in delivery_log(client, token, sub)
                )
            )
        assert Worker(app).fan_out() == 0  # nothing is left to expand
        posts = receiver.posts()
    assert len(posts) == 45 and len({p.headers["webhook-id"] for p in posts}) == 45
    for sub in subs:
        logged = list(reversed(delivery_log(client, token, sub)))
        assert [d["payload"]["data"]["session"]["local_time"] for d in logged] == times
    get_store(app).engine.dispose()


def test_a_worker_killed_mid_expansion_leaves_the_change_to_be_expanded_once(
    pg_database: str,
) -> None:
    """``kill -9`` of a worker process inside its expansion transaction: nothing of it
    commits, and the next worker expands the change once, for every subscription."""
    import signal
    import subprocess
    import sys

    from .conftest import REPO_ROOT
    from .notify_helpers import (
        FAST,
        ROUND_2,
        delivery_log,
        new_token,
        patch_session,
        running_worker,
        subscribe,
    )
    from .receivers import receiving, wait_for

    app = _app(pg_database, **FAST)
    client, token = app.test_client(), new_token(app)
    watcher = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    holder = create_engine(pg_database)

    def expansion_waits() -> bool:
        with watcher.connect() as conn:
            return bool(
                conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                        "current_database() AND wait_event_type = 'Lock' "
                        "AND query ILIKE 'INSERT INTO deliveries%'"
                    )
                )
            )

    with receiving() as first, receiving() as second:
        subs = [subscribe(client, token, r.url, ["session.changed"]) for r in (first, second)]
        patch_session(client, token, f"{ROUND_2}/sessions/race-1", local_time="17:00")
        with holder.connect() as conn, conn.begin():
            # Hold the second subscription's row: inserting its delivery checks the foreign
            # key (FOR KEY SHARE) and waits there, inside the worker's expansion transaction.
            conn.execute(
                text("SELECT id FROM webhook_subscriptions WHERE public_id = :id FOR UPDATE"),
                {"id": subs[1]["id"]},
            )
            worker = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "service", "worker", "--threads", "2"],
                cwd=REPO_ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": pg_database,
                    "SECRET_KEY": TEST_SECRET_KEY,
                    "GRIDFEED_TRUSTED_HOSTS": "localhost",
                    "GRIDFEED_AUTO_MIGRATE": "0",
                    "GRIDFEED_AUTO_SEED": "0",
                    "GRIDFEED_DATA_DIR": str(DATA_DIR),
                    "GRIDFEED_ALLOW_LOOPBACK_TARGETS": "1",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_for(expansion_waits, timeout=60, what="the worker's expansion to wait")
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait(30)
        assert all(delivery_log(client, token, sub) == [] for sub in subs)  # nothing committed
        with running_worker(app):
            wait_for(lambda: first.posts() and second.posts(), what="both deliveries")
            wait_for(
                lambda: all(
                    [d["status"] for d in delivery_log(client, token, sub)] == ["delivered"]
                    for sub in subs
                ),
                what="one delivered delivery per subscription",
            )
        assert len(first.posts()) == len(second.posts()) == 1
    watcher.dispose()
    holder.dispose()
    get_store(app).engine.dispose()


def test_news_feeds_match_the_whole_graph_reference_on_postgres(pg_database: str) -> None:
    # The news queries break ties in SQL as Python compares strings (COLLATE "C"): round
    # numbers past 9 and ties on time make the order matter.
    from benchmarks.synthetic import build

    from .test_news_incremental import assert_every_feed_matches_reference, enrich

    app = _app(pg_database)
    build(app, championships=2, rounds=12)
    enrich(app)
    published = app.test_cli_runner().invoke(args=["publish"])
    assert published.exit_code == 0, published.output
    assert assert_every_feed_matches_reference(app) > 0


def test_a_variant_asked_for_while_another_process_stores_it_is_served_not_a_500(
    pg_database: str,
) -> None:
    """A web process publishing a variant on first request and a worker storing the same key
    at the same moment: the second INSERT used to fail on the primary key (a 500)."""
    app = _app(pg_database)
    assert app.test_cli_runner().invoke(args=["publish"]).exit_code == 0
    key = "http://localhost/calendar.ics?alarm=30"
    other = create_engine(pg_database)
    results: list[object] = []
    with other.connect() as conn:
        # Another process has inserted the row and not committed yet.
        conn.execute(
            text(
                "INSERT INTO published_feeds (key, scope, content_type, body, gzip_body, etag,"
                " last_modified, data_version, tags, filename, published_at) VALUES (:key,"
                " 'calendar:all::0:ics', 'text/calendar', 'x', 'x', 'e', now(), 0, '', NULL,"
                " now())"
            ),
            {"key": key},
        )
        request = threading.Thread(
            target=lambda: results.append(app.test_client().get("/calendar.ics?alarm=30"))
        )
        request.start()
        with other.connect() as watcher:  # the request's INSERT now waits on that row
            for _ in range(200):
                waiting = watcher.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar()
                if waiting:
                    break
                threading.Event().wait(0.05)
        conn.commit()
        request.join(timeout=60)
    other.dispose()
    (response,) = results
    assert response.status_code == 200, response.data[:300]  # type: ignore[attr-defined]
    unfolded = response.data.replace(b"\r\n ", b"")  # type: ignore[attr-defined]
    assert f"SOURCE;VALUE=URI:{key}".encode() in unfolded  # the variant's own bytes
