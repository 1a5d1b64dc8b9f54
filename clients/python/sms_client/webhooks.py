"""Checking the signature of the webhooks the service sends.

Every webhook (endpoint events, alerts included, and per-message `status_callback_url`) carries
`X-SMS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the secret
being the endpoint's `whsec_...` (create_webhook_endpoint / rotate_webhook_secret). Deliveries
older than the tolerance (default 300 s) are refused, so a captured request cannot be replayed.

Alerts (cost thresholds, failure rates) are `alert.raised` events of an endpoint subscribed to
them. The former alert webhook (the `alert_webhook_url` setting and its untimed signature) is gone:
its URL became such an endpoint with the same secret; check it with `verify_webhook_signature`.

Always pass the raw request body (bytes or text exactly as received), never re-serialized JSON.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Optional, Union

SIGNATURE_HEADER = "X-SMS-Signature"

_T = re.compile(r"^\d{1,12}$")
_V1 = re.compile(r"^[0-9a-f]{64}$")

Body = Union[bytes, str]


def _hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def _bytes(body: Body) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def verify_webhook_signature(
    secret: str,
    header: Optional[str],
    body: Body,
    tolerance_seconds: int = 300,
    now: Optional[float] = None,
) -> bool:
    """True when `header` (the X-SMS-Signature of a webhook) signs exactly `body` with
    `secret` and its timestamp is within `tolerance_seconds` of `now` (default: the clock).
    Several `v1=` parts are accepted (any one matching is enough). Constant-time comparison."""
    if not isinstance(header, str) or not secret:
        return False
    t: Optional[int] = None
    signatures = []
    for part in header.split(","):
        key, eq, value = part.partition("=")
        if not eq:
            continue
        key, value = key.strip(), value.strip()
        if key == "t" and _T.match(value):
            t = int(value)
        elif key == "v1" and _V1.match(value):
            signatures.append(value)
    if t is None or not signatures:
        return False
    current = int(time.time()) if now is None else int(now)
    if abs(current - t) > tolerance_seconds:
        return False
    expected = _hex(secret, str(t).encode("ascii") + b"." + _bytes(body))
    return any(hmac.compare_digest(s, expected) for s in signatures)

