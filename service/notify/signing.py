"""Signatures for outgoing notifications, and the encryption of the secrets behind them.

- Webhooks follow Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
  ``"{webhook-id}.{webhook-timestamp}.{body}"``, keyed with the bytes of a ``whsec_`` secret.
- WebSub content carries ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`` keyed with
  the subscriber's ``hub.secret``.

A signing key has to be usable, so it cannot be stored as a hash the way API tokens are. It is
stored encrypted (Fernet) under a key derived from ``SECRET_KEY``: a copy of the database alone
reveals no secret. Changing ``SECRET_KEY`` therefore makes stored secrets unreadable; rotate
subscriptions' secrets instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

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


def seal(secret_key: str, plaintext: str) -> str:
    """Encrypt a signing secret for storage."""
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def unseal(secret_key: str, sealed: str) -> str:
    """Decrypt a stored signing secret; ValueError if SECRET_KEY changed since it was sealed."""
    try:
        return _fernet(secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted: was SECRET_KEY changed?") from exc
