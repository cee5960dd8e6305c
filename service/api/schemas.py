"""Request and response schemas of the JSON API (marshmallow; the OpenAPI document is built
from them by flask-smorest). Unknown fields are rejected, never ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..domain.choices import (
    ARTICLE_STATUSES,
    COUNTRY_PATTERN,
    FIRST_SEASON,
    LAST_SEASON,
    MAX_DURATION_MINUTES,
    NAME_MAX_LENGTH,
    NUMBER_MAX_DIGITS,
    RESULT_OUTCOMES,
    ROUND_REF_PATTERN,
    ROUND_STATUSES,
    SESSION_KINDS,
    SESSION_STATUSES,
    SLUG_PATTERN,
    TEXT_MAX_LENGTH,
    TIME_PATTERN,
    UTC_OFFSET_PATTERN,
)
from ..domain.text import check_text, parse_number
from ..domain.timesheet import parse_gap, parse_time
from ..notify.chat import WEBHOOK_FORMATS
from ..notify.models import DELIVERY_STATUSES, WEBHOOK_EVENT_TYPES

SLUG = validate.Regexp(SLUG_PATTERN, error="must be a slug such as 'race-1'")
TIME = validate.Regexp(TIME_PATTERN, error="must be HH:MM (24-hour)")
COUNTRY = validate.Regexp(COUNTRY_PATTERN, error="must be an ISO 3166 alpha-2 code")


class WholeNumber(fields.Integer):
    """An integer; given as a string (a query parameter), ASCII digits only and bounded in
    length: the one number rule (``domain.text.parse_number``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):
            number = parse_number(value, 0, 10**NUMBER_MAX_DIGITS - 1)
            if number is None:
                raise self.make_error("invalid")
            value = number
        return super()._deserialize(value, attr, data, **kwargs)


def _timing(parse: Callable[[str], object], example: str) -> Callable[[str | None], None]:
    def check(value: str | None) -> None:
        if value is not None and parse(value) is None:
            raise ValidationError(f"must be a time such as {example!r}")

    return check


LAP_TIME = _timing(parse_time, "1:23.456")
GAP = _timing(parse_gap, "+12.345' or '+1 lap")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


TEXT_LENGTH = validate.Length(max=TEXT_MAX_LENGTH)
TEXT_LENGTH_1 = validate.Length(min=1, max=TEXT_MAX_LENGTH)


def text_rule(value: str) -> None:
    """The characters of the one text rule (``domain.text.check_text``) as a marshmallow
    validator; the length is a ``validate.Length`` beside it, so OpenAPI shows it."""
    problem = check_text(value, max_length=None)
    if problem:
        raise ValidationError(problem)


def _text(required: bool = False, **kwargs: object) -> fields.String:
    """A free-text field: the text rule, and at most TEXT_MAX_LENGTH characters."""
    if required:
        return fields.String(required=True, validate=[TEXT_LENGTH_1, text_rule], **kwargs)
    return fields.String(allow_none=True, validate=[TEXT_LENGTH, text_rule], **kwargs)


def _name(required: bool = False, nullable: bool = False, **kwargs: object) -> fields.String:
    """A name as the store keeps it: 1 to NAME_MAX_LENGTH characters and the text rule
    (null only where ``nullable``)."""
    return fields.String(
        required=required,
        allow_none=nullable,
        validate=[validate.Length(min=1, max=NAME_MAX_LENGTH), text_rule],
        **kwargs,
    )


# -- queries ------------------------------------------------------------------------------


class PageQuery(StrictSchema):
    limit = WholeNumber(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


class SessionQuery(PageQuery):
    championship = fields.String(validate=SLUG)
    competitor = fields.String(validate=SLUG)
    kind = fields.String(validate=validate.OneOf(SESSION_KINDS))
    from_ = fields.Date(data_key="from", metadata={"description": "first local date"})
    to = fields.Date(metadata={"description": "last local date"})
    upcoming = fields.Boolean(metadata={"description": "only sessions not yet started"})


class ResultsQuery(PageQuery):
    championship = fields.String(validate=SLUG)
    competitor = fields.String(validate=SLUG)
    kind = fields.String(validate=validate.OneOf(SESSION_KINDS))


class ArticleQuery(PageQuery):
    championship = fields.String(validate=SLUG)
    competitor = fields.String(validate=SLUG)


class ChampionshipQuery(PageQuery):
    season = WholeNumber(validate=validate.Range(FIRST_SEASON, LAST_SEASON))


# -- responses ----------------------------------------------------------------------------


class CircuitOut(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    locality = fields.String(allow_none=True)
    country = fields.String(required=True)
    timezone = fields.String(required=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    length_m = WholeNumber(allow_none=True, metadata={"description": "lap length in metres"})
    url = fields.String(required=True)


class TeamOut(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(allow_none=True)
    url = fields.String(required=True)


class ChampionshipOut(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    series = fields.String(required=True)
    short_name = fields.String(allow_none=True)
    season = WholeNumber(required=True)
    description = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    rounds = fields.List(WholeNumber(), required=True)
    url = fields.String(required=True)


class SessionOut(Schema):
    championship = fields.String(required=True)
    round = WholeNumber(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    local_date = fields.String(allow_none=True, metadata={"description": "circuit-local date"})
    local_time = fields.String(allow_none=True, metadata={"description": "circuit-local HH:MM"})
    local_start = fields.String(allow_none=True, metadata={"description": "ISO 8601 with offset"})
    timezone = fields.String(required=True, metadata={"description": "IANA zone"})
    start_utc = fields.String(allow_none=True)
    end_utc = fields.String(allow_none=True)
    duration_minutes = WholeNumber(allow_none=True)
    time_tbc = fields.Boolean(required=True)
    time_note = fields.String(allow_none=True)
    revision = WholeNumber(required=True)
    updated_at = fields.String(allow_none=True)
    results_status = fields.String(required=True)
    url = fields.String(required=True)


class RoundOut(Schema):
    championship = fields.String(required=True)
    number = WholeNumber(required=True)
    name = fields.String(required=True)
    circuit = fields.Nested(CircuitOut, required=True)
    start_date = fields.String(required=True)
    end_date = fields.String(required=True)
    status = fields.String(required=True)
    field_size = WholeNumber(allow_none=True)
    note = fields.String(allow_none=True)
    revision = WholeNumber(required=True)
    updated_at = fields.String(allow_none=True)
    sessions = fields.List(fields.Nested(SessionOut), required=True)
    url = fields.String(required=True)


class ResultLineOut(Schema):
    entry = fields.String(required=True)
    driver = fields.String(allow_none=True)
    competitors = fields.List(fields.String(), required=True)
    position = WholeNumber(allow_none=True)
    outcome = fields.String(required=True)
    class_position = WholeNumber(allow_none=True)
    note = fields.String(allow_none=True)
    number = fields.String(allow_none=True, metadata={"description": "the entry's car number"})
    class_ = fields.String(allow_none=True, data_key="class")
    laps = WholeNumber(allow_none=True)
    total_time = fields.String(allow_none=True, metadata={"description": "e.g. 1:02:03.456"})
    gap = fields.String(allow_none=True, metadata={"description": "+12.345 or +1 lap"})
    best_lap = fields.String(allow_none=True, metadata={"description": "e.g. 2:01.234"})


class ResultsOut(Schema):
    session = fields.Nested(SessionOut, required=True)
    status = fields.String(required=True)
    published_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    revision = WholeNumber(required=True)
    note = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(ResultLineOut), required=True)


class EntryOut(Schema):
    championship = fields.String(required=True)
    slug = fields.String(required=True)
    team = fields.String(allow_none=True)
    car = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    class_ = fields.String(allow_none=True, data_key="class")
    drivers = fields.List(fields.String(), required=True)
    url = fields.String(required=True)


class CompetitorOut(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(allow_none=True)
    entries = fields.List(fields.Nested(EntryOut), required=True)
    url = fields.String(required=True)


class LinkOut(Schema):
    title = fields.String(required=True)
    url = fields.String(required=True)


class ArticleOut(Schema):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(allow_none=True)
    author = fields.String(allow_none=True)
    body_markdown = fields.String(required=True)
    published_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    status = fields.String(required=True)
    championships = fields.List(fields.String(), required=True)
    rounds = fields.List(fields.String(), required=True)
    competitors = fields.List(fields.String(), required=True)
    links = fields.List(fields.Nested(LinkOut), required=True)
    url = fields.String(required=True)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page schema: ``items`` of ``item`` plus the ``next`` page's URL."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


ChampionshipPage = page_of(ChampionshipOut, "ChampionshipPage")
SessionPage = page_of(SessionOut, "SessionPage")
ResultsPage = page_of(ResultsOut, "ResultsPage")
CompetitorPage = page_of(CompetitorOut, "CompetitorPage")
ArticlePage = page_of(ArticleOut, "ArticlePage")
RoundPage = page_of(RoundOut, "RoundPage")
CircuitPage = page_of(CircuitOut, "CircuitPage")
TeamPage = page_of(TeamOut, "TeamPage")
EntryPage = page_of(EntryOut, "EntryPage")


# -- writes -------------------------------------------------------------------------------


class ChampionshipUpdate(StrictSchema):
    name = _name()
    series = _name()
    short_name = fields.String(
        allow_none=True, validate=[validate.Length(min=1, max=100), text_rule]
    )
    season = WholeNumber(validate=validate.Range(FIRST_SEASON, LAST_SEASON))
    description = _text()
    website = fields.Url(allow_none=True, schemes={"http", "https"})


class ChampionshipCreate(ChampionshipUpdate):
    slug = fields.String(required=True, validate=SLUG)
    name = _name(required=True)
    series = _name(required=True)
    season = WholeNumber(required=True, validate=validate.Range(FIRST_SEASON, LAST_SEASON))


class RoundUpdate(StrictSchema):
    name = _text()
    circuit = fields.String(validate=SLUG, metadata={"description": "circuit slug"})
    start_date = fields.Date()
    end_date = fields.Date()
    status = fields.String(validate=validate.OneOf(ROUND_STATUSES))
    field_size = WholeNumber(allow_none=True, validate=validate.Range(1, 1000))
    note = _text()


class RoundCreate(RoundUpdate):
    number = WholeNumber(required=True, validate=validate.Range(1, 1000))
    circuit = fields.String(required=True, validate=SLUG)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class SessionUpdate(StrictSchema):
    name = _text()
    kind = fields.String(validate=validate.OneOf(SESSION_KINDS))
    local_date = fields.Date(allow_none=True)
    local_time = fields.String(allow_none=True, validate=TIME)
    duration_minutes = WholeNumber(
        allow_none=True, validate=validate.Range(1, MAX_DURATION_MINUTES)
    )
    time_note = _text()
    status = fields.String(validate=validate.OneOf(SESSION_STATUSES))
    utc_offset = fields.String(
        allow_none=True,
        validate=validate.Regexp(UTC_OFFSET_PATTERN, error="must be a UTC offset such as +01:00"),
        metadata={
            "description": "Which occurrence of a local time that happens twice (clocks going "
            "back) the session means, by its UTC offset: e.g. '+01:00' for the second 02:30 "
            "of 29 October 2023 in Europe/Paris. Without it a repeated time is its first "
            "occurrence (RFC 5545 §3.3.5); a time that keeps its date and time keeps its "
            "occurrence. It must be an offset the local time has that day, or the write is a "
            "422. A local time that does not exist (clocks going forward) is always a 422 "
            "naming the gap."
        },
    )


class SessionCreate(SessionUpdate):
    slug = fields.String(required=True, validate=SLUG)
    name = _text(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(SESSION_KINDS))


class ResultLineIn(StrictSchema):
    entry = fields.String(required=True, validate=SLUG)
    driver = fields.String(allow_none=True, validate=SLUG)
    position = WholeNumber(allow_none=True, validate=validate.Range(1, 1000))
    outcome = fields.String(load_default="classified", validate=validate.OneOf(RESULT_OUTCOMES))
    class_position = WholeNumber(
        allow_none=True,
        validate=validate.Range(1, 1000),
        metadata={"description": "derived from the entries' classes when left out"},
    )
    note = _text()
    laps = WholeNumber(allow_none=True, validate=validate.Range(0, 100_000))
    total_time = fields.String(
        allow_none=True, validate=LAP_TIME, metadata={"description": "e.g. 1:02:03.456"}
    )
    gap = fields.String(
        allow_none=True, validate=GAP, metadata={"description": "+12.345, or +1 lap / +2 laps"}
    )
    best_lap = fields.String(
        allow_none=True, validate=LAP_TIME, metadata={"description": "e.g. 2:01.234"}
    )


class ResultsIn(StrictSchema):
    status = fields.String(
        load_default="published", validate=validate.OneOf(("published", "withdrawn"))
    )
    lines = fields.List(
        fields.Nested(ResultLineIn), required=True, validate=validate.Length(max=1000)
    )
    note = _text()


class CircuitUpdate(StrictSchema):
    slug = fields.String(
        validate=SLUG,
        metadata={"description": "a new slug; the old one then answers 301 to the new one"},
    )
    name = _name()
    locality = _name(nullable=True)
    country = fields.String(validate=COUNTRY)
    timezone = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "IANA zone"}
    )
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    length_m = WholeNumber(allow_none=True, validate=validate.Range(100, 100_000))


class CircuitCreate(CircuitUpdate):
    slug = fields.String(required=True, validate=SLUG)
    name = _name(required=True)
    country = fields.String(required=True, validate=COUNTRY)
    timezone = fields.String(required=True, validate=validate.Length(min=1, max=64))


class TeamUpdate(StrictSchema):
    slug = fields.String(
        validate=SLUG,
        metadata={"description": "a new slug; the old one then answers 301 to the new one"},
    )
    name = _name()
    country = fields.String(allow_none=True, validate=COUNTRY)


class TeamCreate(TeamUpdate):
    slug = fields.String(required=True, validate=SLUG)
    name = _name(required=True)


class CompetitorUpdate(StrictSchema):
    slug = fields.String(
        validate=SLUG,
        metadata={"description": "a new slug; the old one then answers 301 to the new one"},
    )
    name = _name()
    country = fields.String(
        allow_none=True, validate=COUNTRY, metadata={"description": "nationality"}
    )


class CompetitorCreate(CompetitorUpdate):
    slug = fields.String(required=True, validate=SLUG)
    name = _name(required=True)


class EntryUpdate(StrictSchema):
    team = fields.String(allow_none=True, validate=SLUG, metadata={"description": "team slug"})
    car = fields.String(allow_none=True, validate=[validate.Length(max=200), text_rule])
    number = fields.String(allow_none=True, validate=[validate.Length(min=1, max=10), text_rule])
    class_ = fields.String(
        allow_none=True, data_key="class", validate=[validate.Length(max=50), text_rule]
    )
    drivers = fields.List(
        fields.String(validate=SLUG),
        validate=validate.Length(min=1, max=10),
        metadata={"description": "competitor slugs, in order"},
    )


class EntryCreate(EntryUpdate):
    slug = fields.String(required=True, validate=SLUG)
    drivers = fields.List(
        fields.String(validate=SLUG), required=True, validate=validate.Length(min=1, max=10)
    )


class ChampionshipCopy(StrictSchema):
    slug = fields.String(required=True, validate=SLUG, metadata={"description": "the new slug"})
    season = WholeNumber(required=True, validate=validate.Range(1900, 2200))
    name = _name(metadata={"description": "default: the name with the season replaced"})


class ResultsImportQuery(StrictSchema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "show the diff, write nothing"}
    )
    create_entries = fields.Boolean(
        load_default=False,
        metadata={"description": "create entries (and drivers, teams) for unmatched lines"},
    )


class ResultsImportOut(Schema):
    dry_run = fields.Boolean(required=True)
    changed = fields.Boolean(required=True, metadata={"description": "false: nothing written"})
    diff = fields.List(fields.String(), required=True)
    created_entries = fields.List(fields.String(), required=True)
    results = fields.Nested(ResultsOut, required=True)


class LinkIn(StrictSchema):
    title = _text(required=True)
    url = fields.Url(required=True, schemes={"http", "https"})


class ArticleUpdate(StrictSchema):
    title = _text()
    summary = _text()
    author = _text()
    body_markdown = _text()
    published_at = fields.AwareDateTime()
    status = fields.String(validate=validate.OneOf(ARTICLE_STATUSES))
    championships = fields.List(fields.String(validate=SLUG))
    rounds = fields.List(
        fields.String(
            validate=validate.Regexp(
                ROUND_REF_PATTERN,
                error="must be 'championship-slug/number'",
            )
        )
    )
    competitors = fields.List(fields.String(validate=SLUG))
    links = fields.List(fields.Nested(LinkIn))


class ArticleCreate(ArticleUpdate):
    slug = fields.String(required=True, validate=SLUG)
    title = _text(required=True)
    body_markdown = _text(required=True)


# -- webhooks -----------------------------------------------------------------------------


class WebhookUpdate(StrictSchema):
    url = fields.String(
        validate=[validate.Length(min=1, max=1000), text_rule],
        metadata={"description": "http(s) URL that receives the POSTs; must be public"},
    )
    description = fields.String(allow_none=True, validate=[validate.Length(max=500), text_rule])
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    )
    championship = fields.String(allow_none=True, validate=SLUG)
    competitor = fields.String(allow_none=True, validate=SLUG)
    reminder_minutes = WholeNumber(
        validate=validate.Range(1, MAX_DURATION_MINUTES),
        metadata={"description": "lead time of session.starting_soon (default 30)"},
    )
    enabled = fields.Boolean(metadata={"description": "true re-enables a disabled subscription"})
    format = fields.String(
        validate=validate.OneOf(WEBHOOK_FORMATS),
        metadata={
            "description": "body shape: standard (Standard Webhooks JSON, the default), "
            "discord (a Discord incoming-webhook message) or slack (a Slack one)"
        },
    )


class WebhookCreate(WebhookUpdate):
    url = fields.String(required=True, validate=[validate.Length(min=1, max=1000), text_rule])
    event_types = fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=len(WEBHOOK_EVENT_TYPES)),
    )


class WebhookOut(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(allow_none=True)
    event_types = fields.List(fields.String(), required=True)
    championship = fields.String(allow_none=True)
    competitor = fields.String(allow_none=True)
    reminder_minutes = WholeNumber(required=True)
    format = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(allow_none=True)
    failing_since = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    deliveries = fields.String(required=True, metadata={"description": "the delivery log"})
    href = fields.String(required=True, metadata={"description": "this subscription in the API"})


class WebhookWithSecretOut(WebhookOut):
    secret = fields.String(
        metadata={"description": "whsec_ signing secret; shown only in this response"},
    )
    secret_note = fields.String(
        metadata={
            "description": "instead of `secret` in an Idempotency-Key replay: the secret was "
            "shown once and is not kept; rotate it for a new one"
        },
    )


class AttemptOut(Schema):
    attempt = WholeNumber(required=True)
    at = fields.String(required=True)
    status_code = WholeNumber(allow_none=True)
    latency_ms = WholeNumber(allow_none=True)
    outcome = fields.String(required=True)
    error = fields.String(allow_none=True)


class DeliveryOut(Schema):
    id = fields.String(required=True, metadata={"description": "the webhook-id header"})
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    attempts = WholeNumber(required=True)
    created_at = fields.String(required=True)
    next_attempt_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    last_status_code = WholeNumber(allow_none=True)
    last_error = fields.String(allow_none=True)
    payload = fields.Dict(required=True)
    log = fields.List(fields.Nested(AttemptOut), required=True)


class DeliveryQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


WebhookPage = page_of(WebhookOut, "WebhookPage")
DeliveryPage = page_of(DeliveryOut, "DeliveryPage")


# -- subscriber counts --------------------------------------------------------------------


class FeedStatsQuery(StrictSchema):
    championship = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={"description": "only this championship's feeds (a scoped token must say)"},
    )
    from_ = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first day (default: 30 days ago)"},
    )
    to = fields.Date(load_default=None, metadata={"description": "last day (default: today, UTC)"})


class FeedDayOut(Schema):
    day = fields.String(required=True)
    feed = fields.String(required=True, metadata={"description": "the feed's path"})
    championship = fields.String(allow_none=True)
    direct = fields.Integer(
        required=True, metadata={"description": "distinct fetchers that are a person's own app"}
    )
    aggregators = fields.Integer(required=True)
    aggregator_subscribers = fields.Integer(
        required=True,
        metadata={"description": "subscribers aggregators report (1 for one that reports none)"},
    )
    total = fields.Integer(
        required=True, metadata={"description": "direct + aggregator_subscribers"}
    )


class FeedStatsOut(Schema):
    start = fields.String(required=True, data_key="from")
    end = fields.String(required=True, data_key="to")
    championship = fields.String(allow_none=True)
    items = fields.List(fields.Nested(FeedDayOut), required=True)
