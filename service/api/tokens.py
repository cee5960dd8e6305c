"""Bearer tokens for the write API: creation, listing, revocation and checking.

A token reads ``gf_<public_id>_<secret>``. The public id finds the row; the secret is kept only
as a SHA-256 hash (it is 256 bits of randomness, so a slow password hash adds nothing) and is
compared in constant time. Tokens are credentials, not championship data, so they are kept
here rather than in the write path and never appear in the change record, a log or a response
other than the one that creates them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import click
from flask import Flask, current_app, request
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..domain.text import check_text
from ..store.engine import get_store, write_session
from .models import TOKEN_PERMISSIONS, ApiToken

# Far longer than any token we issue; a longer string is not one of ours.
MAX_TOKEN_LENGTH = 500
PREFIX = "gf_"


class AuthError(Exception):
    """401 (no or bad token) or 403 (valid token, wrong scope), with a reason for people."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name and scope (never its secret)."""

    token_id: str
    name: str
    championships: tuple[str, ...] | None
    permissions: tuple[str, ...]

    @property
    def actor(self) -> str:
        """How the change record names this caller."""
        return f"token:{self.token_id}:{self.name}"

    def allows(self, permission: str, championship: str | None = None) -> bool:
        """Whether the token may do ``permission`` on ``championship``.

        ``championship`` is None for an action tied to no championship (creating one, say):
        only a token for all championships may do that, except subscribing to webhooks,
        which only reads public data.
        """
        if permission not in self.permissions:
            return False
        if self.championships is None:
            return True
        if championship is None:
            return permission == "webhooks"
        return championship in self.championships


def hash_secret(secret: str) -> str:
    """The stored form of a token secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: OrmSession,
    name: str,
    championships: list[str] | None,
    permissions: list[str],
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return its row and the full token string (shown once, never stored)."""
    unknown = sorted(set(permissions) - set(TOKEN_PERMISSIONS))
    if unknown:
        raise ValueError(
            f"unknown permission(s) {', '.join(unknown)}; "
            f"choose from {', '.join(TOKEN_PERMISSIONS)}"
        )
    public_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        public_id=public_id,
        secret_hash=hash_secret(secret),
        name=name,
        championships=sorted(set(championships)) if championships else None,
        permissions=sorted(set(permissions)),
        created_at=now or dt.datetime.now(dt.UTC),
    )
    session.add(token)
    session.flush()
    return token, f"{PREFIX}{public_id}_{secret}"


def verify(session: OrmSession, presented: str) -> Principal:
    """Check a presented token string; raise AuthError(401) unless it is valid and unrevoked."""
    if (
        not presented.startswith(PREFIX)
        or presented.count("_") < 2
        or check_text(presented, max_length=MAX_TOKEN_LENGTH)  # no NUL reaches a query
    ):
        raise AuthError(401, "malformed bearer token")
    public_id, _, secret = presented.removeprefix(PREFIX).partition("_")
    token = session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))
    # Compare against a dummy hash when the id is unknown, so timing does not reveal ids.
    expected = token.secret_hash if token else hash_secret("no-such-token")
    if not hmac.compare_digest(expected, hash_secret(secret)) or token is None:
        raise AuthError(401, "unknown or wrong bearer token")
    if token.revoked_at is not None:
        raise AuthError(401, "this token has been revoked")
    return Principal(
        token_id=token.public_id,
        name=token.name,
        championships=tuple(token.championships) if token.championships is not None else None,
        permissions=tuple(token.permissions),
    )


def authenticate(permission: str, championship: str | None = None) -> Principal:
    """The caller of the current request, if allowed ``permission`` on ``championship``.

    Raises AuthError(401) for a missing or bad token and AuthError(403) for a valid token
    outside its scope.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthError(401, "a bearer token is required (Authorization: Bearer gf_...)")
    with get_store().sessions() as session:
        principal = verify(session, presented.strip())
    if not principal.allows(permission, championship):
        where = f" for championship {championship!r}" if championship else ""
        raise AuthError(403, f"token {principal.name!r} may not change {permission}{where}")
    return principal


# -- CLI ----------------------------------------------------------------------------------

tokens_cli = AppGroup("tokens", help="Create, list and revoke API tokens.")


@tokens_cli.command("create")
@click.argument("name")
@click.option(
    "--championship",
    "championships",
    multiple=True,
    help="Limit the token to this championship slug (repeatable). Default: all.",
)
@click.option(
    "--permission",
    "permissions",
    multiple=True,
    type=click.Choice(TOKEN_PERMISSIONS),
    help="Grant this permission (repeatable). Default: all.",
)
def create_command(name: str, championships: tuple[str, ...], permissions: tuple[str, ...]) -> None:
    """Create a token and print it once; only its hash is stored."""
    with write_session(current_app) as session:
        token, secret = create_token(
            session, name, list(championships) or None, list(permissions) or list(TOKEN_PERMISSIONS)
        )
        scope = ", ".join(token.championships) if token.championships else "all championships"
        click.echo(
            f"Created token {token.public_id} ({name}): {', '.join(token.permissions)} on {scope}."
        )
    click.echo("Store it now; it cannot be shown again:")
    click.echo(secret)


@tokens_cli.command("list")
def list_command() -> None:
    """List tokens (never their secrets)."""
    with get_store(current_app).sessions() as session:
        for token in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            scope = ",".join(token.championships) if token.championships else "*"
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(
                f"{token.public_id}\t{token.name}\t{','.join(token.permissions)}\t{scope}\t{state}"
            )


@tokens_cli.command("revoke")
@click.argument("public_id")
def revoke_command(public_id: str) -> None:
    """Revoke a token by its id (the part after gf_); it stops working at once."""
    with write_session(current_app) as session:
        token = session.scalar(select(ApiToken).where(ApiToken.public_id == public_id))
        if token is None:
            raise click.ClickException(f"no token with id {public_id!r}")
        if token.revoked_at is None:
            token.revoked_at = dt.datetime.now(dt.UTC)
    click.echo(f"Revoked token {public_id}.")


def init_app(app: Flask) -> None:
    """Register the ``tokens`` command group."""
    app.cli.add_command(tokens_cli)
