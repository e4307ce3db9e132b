"""Typed exceptions for the Processa API.

Every error the client raises is a :class:`ProcessaError` carrying the API's ``code``
(``validation_failed``, ``already_decided``, ``unauthorized``, ...), the HTTP ``status``, the
error's ``details`` and the response's ``request_id`` (quote it in support requests). The
subclass says which kind of failure it was, so callers can ``except ConflictError:``.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ProcessaError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "IdempotencyKeyReusedError",
    "RateLimitError",
    "InternalServerError",
    "GatewayError",
    "ServiceUnavailableError",
    "APIConnectionError",
    "DecisionTimeoutError",
    "error_from_response",
    "parse_retry_after",
]


class ProcessaError(Exception):
    """Every error this client raises.

    Attributes:
        code: the API's error code, or a client-side one (``connection_error``,
            ``decision_timeout``, ``invalid_response``, ``http_<status>``).
        message: a human-readable explanation.
        status: the HTTP status, or None when no response was received.
        details: the error's ``details`` object, if any (``details["fields"]`` names bad fields).
        request_id: the response's ``x-request-id``.
        retry_after_seconds: what the server asked to wait (Retry-After), on 429 and 503.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: Any = None,
        request_id: str | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details
        self.request_id = request_id
        self.retry_after_seconds = retry_after_seconds

    def __str__(self) -> str:
        where = f"HTTP {self.status} " if self.status is not None else ""
        request = f" (request {self.request_id})" if self.request_id else ""
        return f"{where}{self.code}: {self.message}{request}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r}, request_id={self.request_id!r})"


class ValidationError(ProcessaError):
    """400: bad input (``validation_failed``, ``malformed_json``, ...); ``fields`` names each bad field."""

    @property
    def fields(self) -> list[dict[str, str]]:
        fields = self.details.get("fields") if isinstance(self.details, Mapping) else None
        return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


class AuthenticationError(ProcessaError):
    """401: missing, unknown or revoked API key (``unauthorized``)."""


class PermissionDeniedError(ProcessaError):
    """403: the key's role may not do this, e.g. an agent deciding a draft (``forbidden``)."""


class NotFoundError(ProcessaError):
    """404: no such draft (or route)."""


class ConflictError(ProcessaError):
    """409: the draft is already decided (``already_decided``) or expired (``draft_expired``).

    ``draft`` is the state that won, when the API sent it.
    """

    @property
    def draft(self) -> dict[str, Any] | None:
        draft = self.details.get("draft") if isinstance(self.details, Mapping) else None
        return draft if isinstance(draft, dict) else None


class PayloadTooLargeError(ValidationError):
    """413: a body or field over its size limit."""


class UnsupportedMediaTypeError(ValidationError):
    """415: the body was not sent as application/json."""


class IdempotencyKeyReusedError(ProcessaError):
    """422: an Idempotency-Key reused with a different request body (``idempotency_key_reused``)."""


class RateLimitError(ProcessaError):
    """429: throttled; retried automatically, raised once retries are exhausted."""


class InternalServerError(ProcessaError):
    """500 and other 5xx not listed below."""


class GatewayError(ProcessaError):
    """502 / 504: the gateway got no (timely) answer from the function."""


class ServiceUnavailableError(ProcessaError):
    """503: the service is busy; retried automatically, raised once retries are exhausted."""


class APIConnectionError(ProcessaError):
    """No response: DNS failure, connection refused or reset, or the per-request timeout.

    The underlying exception is ``__cause__``. ``code`` is ``connection_error``.
    """


class DecisionTimeoutError(ProcessaError):
    """``wait_for_decision`` gave up; ``draft`` is the last (still pending) state seen."""

    def __init__(self, draft: Mapping[str, Any], timeout: float) -> None:
        super().__init__(
            "decision_timeout",
            f"Draft {draft.get('id')} was still {draft.get('status')} after {timeout:g} s",
        )
        self.draft = draft
        self.timeout = timeout


_BY_STATUS: dict[int, type[ProcessaError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: IdempotencyKeyReusedError,
    429: RateLimitError,
    500: InternalServerError,
    502: GatewayError,
    503: ServiceUnavailableError,
    504: GatewayError,
}


def _header(headers: Mapping[str, str] | Any, name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    return value if isinstance(value, str) else None


def error_from_response(status: int, body: str, headers: Mapping[str, str] | Any) -> ProcessaError:
    """The typed error for a non-2xx response.

    API errors are ``{"error": {"code", "message", "details"?}}``; API Gateway's own answers
    (throttling, a payload over 10 MB) are ``{"message"}``; anything else (a proxy's HTML page)
    keeps a short excerpt. ``headers`` needs a case-insensitive ``get`` (``http.client.HTTPMessage``).
    """
    code = f"http_{status}"
    message = f"HTTP {status}"
    details: Any = None
    try:
        parsed = json.loads(body)
    except ValueError:
        if body.strip():
            message = f"HTTP {status}: {body.strip()[:200]}"
    else:
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(error, dict):
            if isinstance(error.get("code"), str):
                code = error["code"]
            if isinstance(error.get("message"), str):
                message = error["message"]
            details = error.get("details")
        elif isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
            message = parsed["message"]
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else ProcessaError)
    return cls(
        code,
        message,
        status=status,
        details=details,
        request_id=_header(headers, "x-request-id"),
        retry_after_seconds=parse_retry_after(_header(headers, "retry-after")),
    )


_DELTA_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (None if absent or unreadable)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at is None:
        return None
    if at.tzinfo is None:  # "-0000": UTC by RFC 5322
        at = at.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, at.timestamp() - (time.time() if now is None else now))
