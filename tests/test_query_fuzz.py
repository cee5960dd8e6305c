"""Issue 14: hypothesis over the query parameters of every public URL that is not the API
(feeds, calendars, pages, WebSub, health), asserting no 5xx and that a refusal is a 4xx with a
one-line reason. The API is fuzzed from its OpenAPI document by schemathesis
(``test_api_fuzz.py``); both run in every pytest run, so in ``.ci/run``."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import make_app

GT4 = "gt4-european-series-2023"
COMPETITOR = "andreas-backman"
FEED = ("limit",)
CALENDAR = ("alarm", "include", "exclude", "tz")
# Every public URL that is not the API, with the query parameters it reads (reserved names).
URLS: dict[str, tuple[str, ...]] = {
    "/": (),
    f"/championships/{GT4}": (),
    f"/championships/{GT4}/rounds/2": (),
    f"/competitors/{COMPETITOR}": (),
    "/news/tough-weekend-for-the-backman-siblings-in-france": (),
    "/news.rss": FEED,
    "/news.atom": FEED,
    "/news.json": FEED,
    f"/championships/{GT4}/news.atom": FEED,
    f"/competitors/{COMPETITOR}/news.json": FEED,
    "/calendar.ics": CALENDAR,
    f"/championships/{GT4}/calendar.ics": CALENDAR,
    f"/competitors/{COMPETITOR}/calendar.ics": CALENDAR,
    f"/championships/{GT4}/rounds/2.ics": CALENDAR,
    "/series/gt4-european-series/calendar.ics": CALENDAR,
    "/websub": (),
    "/healthz": (),
    "/readyz": (),
}
NUMBERISH = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    # Unicode digits and number characters: str.isdigit() and int() accept some of them.
    st.text(st.characters(categories=("Nd",)), min_size=1, max_size=3),
    st.text(st.characters(categories=("No",)), min_size=1, max_size=2),
    st.sampled_from(["1" * 5000, "0x10", "1e3", " 7", "+7", "", "NaN"]),
)
KINDS = st.sampled_from(["race", "practice", "qualifying", "test", "other", "RACE", ",", ""])
VALUES = st.one_of(NUMBERISH, KINDS, st.text(max_size=40), st.just("utc"))


def _text_query(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def queries(reserved: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Query strings for a URL reading ``reserved``: mostly its own names with hostile
    values, plus cache-busters, unknown names, and raw (even invalid UTF-8) bytes."""
    names = st.one_of(
        st.sampled_from([*reserved, "_", "utm_source", "cursor"]), st.text(max_size=8)
    )
    own = st.sampled_from(reserved or ("_",))
    return st.one_of(
        st.lists(st.tuples(own, NUMBERISH), min_size=1, max_size=3).map(_text_query),
        st.lists(st.tuples(own, VALUES), min_size=1, max_size=3).map(_text_query),
        st.lists(st.tuples(names, VALUES), max_size=5).map(_text_query),
        st.tuples(own, st.binary(max_size=60)).map(lambda p: f"{p[0]}={quote_from_bytes(p[1])}"),
    )


WEBSUB_FORM = st.dictionaries(
    st.sampled_from(
        ["hub.mode", "hub.topic", "hub.callback", "hub.lease_seconds", "hub.secret", "x"]
    ),
    st.one_of(
        NUMBERISH,
        st.text(max_size=60),
        st.sampled_from(
            [
                "subscribe",
                "unsubscribe",
                "http://localhost/news.rss",
                "http://[::1/",
                "http://127.0.0.1:0/",
                "http://localhost/championships/nope/calendar.ics",
                "javascript:alert(1)",
            ]
        ),
    ),
)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no DNS in tests: {host}")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, seeded_template: Path):
    db_path = tmp_path_factory.mktemp("query-fuzz") / "fuzz.sqlite3"
    shutil.copy(seeded_template, db_path)
    return make_app(db_path, AUTO_SEED=False, DNS_RESOLVER=_no_dns).test_client()


def _check(response, url: str) -> None:
    assert response.status_code < 500, (url, response.status_code, response.data[:300])
    if response.status_code >= 400 and response.status_code != 404:
        text = response.get_data(as_text=True)
        assert text.strip(), url


@pytest.mark.parametrize("url", URLS)
def test_no_query_string_gets_a_5xx(client, url: str) -> None:
    @given(query=queries(URLS[url]))
    @SETTINGS
    def check(query: str) -> None:
        full = f"{url}?{query}"
        _check(client.get(full), full)

    check()


def test_no_websub_form_gets_a_5xx(client) -> None:
    @given(form=WEBSUB_FORM)
    @SETTINGS
    def check(form: dict[str, str]) -> None:
        _check(client.post("/websub", data=form), f"/websub {form!r}")

    check()


@given(number=NUMBERISH)
@SETTINGS
def test_no_path_number_gets_a_5xx(client, number: str) -> None:
    for url in (
        f"/championships/{GT4}/rounds/{quote(number)}",
        f"/championships/{GT4}/rounds/{quote(number)}.ics",
    ):
        _check(client.get(url), url)
