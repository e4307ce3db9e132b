"""Verifying Processa webhooks on the receiving side (Standard Webhooks), standard library only.

Processa signs every delivery with the Standard Webhooks scheme: headers ``webhook-id`` (the same
on every retry of one event: deduplicate on it), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>`` entries, two of them while a
secret rotation is in its grace period), computed over ``{webhook-id}.{webhook-timestamp}.{raw body}``
with the endpoint's secret (``whsec_`` + base64 key). Verify the raw bytes as received
(Flask: ``request.get_data()``): re-serialized JSON does not match.

    from processa_client import verify_webhook, WebhookVerificationError

    @app.route("/webhooks/processa", methods=["POST"])
    def handle_webhook():
        try:
            data = verify_webhook(request.get_data(), request.headers, os.environ["PROCESSA_WEBHOOK_SECRET"])
        except WebhookVerificationError as error:
            return jsonify({"error": {"code": "invalid_webhook", "reason": error.reason}}), 400
        ...
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "verify_webhook",
    "verify_webhook_delivery",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "WebhookVerificationFailure",
    "DEFAULT_TOLERANCE_SECONDS",
]

#: How far webhook-timestamp may be from now, either way: 5 minutes, as Standard Webhooks libraries use.
DEFAULT_TOLERANCE_SECONDS = 300

WebhookVerificationFailure = Literal[
    "missing_headers",
    "invalid_timestamp",
    "timestamp_too_old",
    "timestamp_too_new",
    "invalid_signature",
    "invalid_payload",
]

_TIMESTAMP = re.compile(r"[0-9]{1,15}")


class WebhookVerificationError(Exception):
    """A delivery that must not be trusted: answer it with a 4xx and act on nothing.

    ``reason`` is one of ``missing_headers``, ``invalid_timestamp``, ``timestamp_too_old``,
    ``timestamp_too_new``, ``invalid_signature``, ``invalid_payload``.
    """

    def __init__(self, reason: WebhookVerificationFailure, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class VerifiedWebhook:
    #: webhook-id: deduplicate on it (it is covered by the signature).
    id: str
    #: webhook-timestamp, as an aware UTC datetime.
    timestamp: datetime.datetime
    #: The parsed body: ``{"event": "draft.approved" | "draft.rejected" | ..., "draft": {...}, "timestamp": ...}``.
    event: dict[str, Any]


def verify_webhook(
    body: bytes | bytearray | memoryview | str,
    headers: Any,
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | datetime.datetime | None = None,
) -> dict[str, Any]:
    """Verifies one delivery and returns its parsed event.

    Args:
        body: the raw request body, exactly as received.
        headers: the request headers: Flask/Werkzeug ``request.headers``, ``http.client.HTTPMessage``,
            a dict (names in any case; a list value for a repeated header) or (name, value) pairs.
        secret: the endpoint's ``whsec_…`` secret, or a list of them while you rotate.
        tolerance: seconds webhook-timestamp may be from ``now``, either way (default 300).
        now: the current time (Unix seconds or an aware datetime), for tests.

    Raises:
        WebhookVerificationError: missing headers, a timestamp outside the tolerance, no matching
            signature, or a signed body that is not a Processa event.
        ValueError: no secret, or a secret that is not ``whsec_`` + base64.
    """
    return verify_webhook_delivery(body, headers, secret, tolerance=tolerance, now=now).event


def verify_webhook_delivery(
    body: bytes | bytearray | memoryview | str,
    headers: Any,
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | datetime.datetime | None = None,
) -> VerifiedWebhook:
    """As verify_webhook, also returning the verified webhook-id and timestamp."""
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("verify_webhook: at least one secret is required")
    keys = [_decode_secret(s) for s in secrets]

    webhook_id = _single_header(headers, "webhook-id")
    timestamp_text = _single_header(headers, "webhook-timestamp")
    signature_values = [v for v in _header_values(headers, "webhook-signature") if v.strip()]
    if not webhook_id or not timestamp_text or not signature_values:
        missing = [
            name
            for name, present in (("webhook-id", webhook_id), ("webhook-timestamp", timestamp_text), ("webhook-signature", signature_values))
            if not present
        ]
        raise WebhookVerificationError("missing_headers", f"Missing webhook headers: {', '.join(missing)}")

    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a Unix time in seconds")
    timestamp = int(timestamp_text)
    now_seconds = int(_seconds(now))
    if now_seconds - timestamp > tolerance:
        raise WebhookVerificationError("timestamp_too_old", f"webhook-timestamp is more than {tolerance:g} s old")
    if timestamp - now_seconds > tolerance:
        raise WebhookVerificationError("timestamp_too_new", f"webhook-timestamp is more than {tolerance:g} s in the future")

    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    signed = f"{webhook_id}.{timestamp_text}.".encode("utf-8") + raw
    expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in keys]
    offered: list[bytes] = []
    for entry in " ".join(signature_values).split(" "):
        if entry.startswith("v1,"):
            try:
                offered.append(base64.b64decode(entry[3:], validate=True))
            except (binascii.Error, ValueError):
                continue
    # Every pair is compared (in constant time each), so timing reveals nothing about which matched.
    matched = False
    for signature in offered:
        for digest in expected:
            if hmac.compare_digest(signature, digest):
                matched = True
    if not matched:
        raise WebhookVerificationError(
            "invalid_signature",
            "No webhook-signature matches: wrong secret, or the body was changed (verify the raw bytes, before any JSON parsing)",
        )

    try:
        event = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookVerificationError("invalid_payload", "The signed body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str) or not isinstance(event.get("draft"), dict):
        raise WebhookVerificationError("invalid_payload", "The signed body is not a Processa event")
    return VerifiedWebhook(
        id=webhook_id,
        timestamp=datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc),
        event=event,
    )


def _decode_secret(secret: str) -> bytes:
    """``whsec_<base64>`` (or bare base64) → key bytes, as Standard Webhooks libraries do."""
    if not isinstance(secret, str):
        raise ValueError("verify_webhook: a secret must be a string (whsec_…)")
    encoded = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("verify_webhook: the secret is empty or not base64 (expected whsec_…)")
    return key


def _seconds(now: float | datetime.datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime.datetime):
        if now.tzinfo is None:
            raise ValueError("verify_webhook: now must be timezone-aware")
        return now.timestamp()
    return float(now)


def _header_values(headers: Any, name: str) -> list[str]:
    """Every value of one header, whatever shape the headers come in (names case-insensitive)."""
    getlist = getattr(headers, "getlist", None)  # Werkzeug Headers / EnvironHeaders
    if callable(getlist):
        return [str(v) for v in getlist(name)]
    get_all = getattr(headers, "get_all", None)  # email.message.Message, http.client.HTTPMessage
    if callable(get_all):
        return [str(v) for v in (get_all(name) or [])]
    if isinstance(headers, Mapping):
        items: Iterable[tuple[Any, Any]] = headers.items()
    else:
        items = headers  # (name, value) pairs
    values: list[str] = []
    for key, value in items:
        if isinstance(key, str) and key.lower() == name:
            if isinstance(value, (list, tuple)):
                values.extend(str(v) for v in value)
            elif value is not None:
                values.append(str(value))
    return values


def _single_header(headers: Any, name: str) -> str | None:
    """A header that must be unambiguous: repeated with different values counts as missing."""
    values = {v.strip() for v in _header_values(headers, name)}
    return values.pop() if len(values) == 1 else None
