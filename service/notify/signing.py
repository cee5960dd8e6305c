"""Signatures for outgoing notifications, and the encryption of the secrets behind them.

- Webhooks follow Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
  ``"{webhook-id}.{webhook-timestamp}.{body}"``, keyed with the bytes of a ``whsec_`` secret.
- WebSub content carries ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`` keyed with
  the subscriber's ``hub.secret``.

A signing key has to be usable, so it cannot be stored as a hash the way API tokens are. It is
stored encrypted (Fernet) under a key derived from ``SECRET_KEY``: a copy of the database alone
reveals no secret. Secrets sealed under a key listed in ``SECRET_KEY_FALLBACKS`` still open
(MultiFernet), so a new key can be rolled out and ``flask keys rotate`` re-seals every stored
secret under it before the old key is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

WEBHOOK_SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    """A new Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_webhook(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_websub(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` header value for a WebSub content distribution."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _fernet(secret_key: str) -> Fernet:
    derived = hashlib.sha256(b"gridfeed notification secrets\0" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _keys(config: Mapping[str, Any]) -> MultiFernet:
    """The current key first (it seals), then the fallbacks (they only open)."""
    keys = [config["SECRET_KEY"], *config["SECRET_KEY_FALLBACKS"]]
    return MultiFernet([_fernet(key) for key in keys])


def seal(config: Mapping[str, Any], plaintext: str) -> str:
    """Encrypt a signing secret for storage under the app's current ``SECRET_KEY``."""
    return _keys(config).encrypt(plaintext.encode()).decode()


def unseal(config: Mapping[str, Any], sealed: str) -> str:
    """Decrypt a stored signing secret with the current key or a fallback; ValueError if
    none of them sealed it."""
    try:
        return _keys(config).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "stored secret cannot be decrypted: was SECRET_KEY changed without keeping the "
            "old one in SECRET_KEY_FALLBACKS until `flask keys rotate` ran?"
        ) from exc


def reseal(config: Mapping[str, Any], sealed: str) -> str:
    """The same secret sealed under the current key (opened with any known key)."""
    try:
        return _keys(config).rotate(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("a stored secret was sealed under none of the known keys") from exc
