"""A client for the Processa API, on the standard library only (urllib, json).

    from processa_client import ProcessaClient

    processa = ProcessaClient("http://localhost:3000", api_key=os.environ["PROCESSA_API_KEY"])
    draft = processa.create("Send welcome email", {"to": "user@example.com", "subject": "Welcome!", "body": "Hello..."})
    decided = processa.wait_for_decision(draft["id"], timeout=3600)

Retries mirror the TypeScript client (shared/client/transport.ts): reads and creates (which always
carry an Idempotency-Key) are retried on 429, 502, 503, 504 and network errors; approve and reject
only when the failure proves nothing was applied (429, 503, a connection that was never made).
Waits grow exponentially with jitter and honour Retry-After.
"""

from __future__ import annotations

import datetime
import errno
import http.client
import json
import platform
import random as _random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, NotRequired, TypedDict, cast

from .errors import (
    APIConnectionError,
    DecisionTimeoutError,
    ProcessaError,
    ValidationError,
    error_from_response,
)

__version__ = "0.1.0"

__all__ = ["ProcessaClient", "Draft", "DraftPage", "DraftStatus", "Actor", "HistoryEntry", "RetryMode"]

DraftStatus = Literal["pending", "approved", "rejected", "expired"]
MetadataValue = str | int | float | bool | None


class Actor(TypedDict):
    """Who did something: the API key that was used (never the key itself)."""

    keyId: str
    name: str
    role: Literal["agent", "reviewer", "admin"]


class HistoryEntry(TypedDict):
    action: Literal["created", "approved", "rejected", "expired"]
    at: str
    actor: Actor | None
    contentEdited: NotRequired[bool]
    reason: NotRequired[str]


class Draft(TypedDict):
    """A draft as the API returns it (JSON field names, as in the HTTP API)."""

    id: str
    title: str
    #: On approved drafts: the approved content, possibly edited by the reviewer. Execute this.
    content: dict[str, Any]
    metadata: dict[str, MetadataValue]
    status: DraftStatus
    createdAt: str
    createdBy: Actor
    reviewedAt: str | None
    reviewedBy: Actor | None
    rejectionReason: str | None
    #: The agent's original content, present only when a reviewer approved an edited version.
    originalContent: NotRequired[dict[str, Any]]
    expiresAt: str | None
    #: Who may decide: key ids and ``group:<name>``s (admins too); empty when any reviewer may.
    reviewers: NotRequired[list[str]]
    #: Distinct approvals of the same content that make the draft approved.
    requiredApprovals: NotRequired[int]
    #: The approvals of the current content so far: ``[{"by": Actor, "at": str}]``.
    approvals: NotRequired[list[dict[str, Any]]]
    #: Counts edits made during review; pass it to approve() as ``approval_round``.
    approvalRound: NotRequired[int]
    history: list[HistoryEntry]
    reviewUrl: str


class DraftPage(TypedDict):
    #: Newest first.
    items: list[Draft]
    #: Pass as ``cursor`` to get the next page; None on the last page.
    nextCursor: str | None


#: ``safe``: reads, and creates with an Idempotency-Key: repeating them cannot do anything twice.
#: ``conditional``: approve and reject: retried only when nothing can have been applied (a retried
#: approve that had in fact succeeded would answer 409 and wrongly say someone else decided first).
RetryMode = Literal["safe", "conditional"]

_RETRY_STATUSES: dict[str, frozenset[int]] = {
    "safe": frozenset({429, 502, 503, 504}),
    "conditional": frozenset({429, 503}),
}
_NOT_SENT_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The API never redirects; following one would send the API key to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class _NetworkFailure(Exception):
    def __init__(self, cause: BaseException, before_sending: bool) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.before_sending = before_sending


def _failed_before_sending(error: BaseException) -> bool:
    """Whether a failure certainly happened before the request reached the server.

    urllib wraps errors raised while connecting or sending in URLError; of those, a refused
    connection, a DNS failure or an unreachable network mean no byte reached the server.
    """
    if not isinstance(error, urllib.error.URLError) or isinstance(error, urllib.error.HTTPError):
        return False
    reason = error.reason
    if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
        return True
    return isinstance(reason, OSError) and reason.errno in _NOT_SENT_ERRNOS


def normalize_base_url(base_url: str) -> str:
    """``http://localhost:3000``, ``http://localhost:3000/`` and ``http://localhost:3000/v1`` are
    the same API; a deployed URL may carry a stage path (``https://…/prod``)."""
    if not isinstance(base_url, str) or not base_url.strip():
        raise ValueError("ProcessaClient: base_url is required, e.g. http://localhost:3000")
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"ProcessaClient: base_url must be an http(s) URL, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"ProcessaClient: base_url must not have a query or fragment, got {base_url!r}")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class ProcessaClient:
    """The Processa HTTP API.

    Args:
        base_url: where the API is served: the URL ``npm run dev`` prints (``http://localhost:3000``)
            or the deployed API's, with or without a trailing ``/v1``.
        api_key: an agent, reviewer or admin key (``Authorization: Bearer``).
        timeout: per-attempt socket timeout in seconds (connecting, and each read). Default 30.
        max_retries: retries after the first attempt of a retryable failure. Default 3.
        retry_base: first retry delay in seconds; it doubles with each retry, with jitter. Default 0.5.
        retry_max: cap of one retry delay, seconds. Default 10.
        max_retry_after: a Retry-After longer than this is not waited for: the error is raised
            instead. Default 60 s.
        sleep, random: for tests: how to wait, and the jitter source in [0, 1).
        opener: a urllib opener (proxies, TLS context). The default follows the environment's
            proxy settings and never follows redirects.

    A client keeps no per-request state: one instance may be shared between threads.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_base: float = 0.5,
        retry_max: float = 10.0,
        max_retry_after: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        opener: urllib.request.OpenerDirector | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("ProcessaClient: api_key is required")
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._random = random
        self._opener = opener or urllib.request.build_opener(_NoRedirects)
        self._user_agent = f"processa-python/{__version__} Python/{platform.python_version()}"

    def __repr__(self) -> str:  # never shows the key
        return f"ProcessaClient(base_url={self.base_url!r})"

    # ------------------------------------------------------------------ drafts

    def create(
        self,
        title: str,
        content: Mapping[str, Any],
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        expires_at: str | datetime.datetime | None = None,
        idempotency_key: str | None = None,
        reviewers: Sequence[str] | None = None,
        required_approvals: int | None = None,
    ) -> Draft:
        """POST /v1/drafts (agent, admin): submit a draft for review; returns it with its ``reviewUrl``.

        Always idempotent: the API answers a repeat with the same ``Idempotency-Key`` (within 24 h)
        with the draft the first one created. The key defaults to a random UUID per call, reused by
        that call's own retries; pass your own (e.g. derived from the agent's task) to also
        deduplicate across process restarts. Reusing a key with another body raises
        IdempotencyKeyReusedError.

        ``reviewers`` (key ids and/or ``group:<name>``) limits who may decide; ``required_approvals``
        (1-5) asks for that many distinct approvals of the same content.
        """
        body: dict[str, Any] = {"title": title, "content": dict(content)}
        if reviewers is not None:
            body["reviewers"] = list(reviewers)
        if required_approvals is not None:
            body["requiredApprovals"] = required_approvals
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if expires_at is not None:
            body["expiresAt"] = _iso(expires_at)
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        return cast(Draft, self._request("POST", "/v1/drafts", body=body, headers={"Idempotency-Key": key}, retry="safe"))

    def get(self, draft_id: str) -> Draft:
        """GET /v1/drafts/{id}. Raises NotFoundError for an unknown id."""
        return cast(Draft, self._request("GET", _draft_path(draft_id), retry="safe"))

    def list_drafts(self, status: DraftStatus | None = None, limit: int | None = None, cursor: str | None = None) -> DraftPage:
        """GET /v1/drafts: one page ``{"items": [...], "nextCursor": ...}``, newest first.

        ``limit`` is the page size (1-100, server default 20); pass the previous page's
        ``nextCursor`` as ``cursor`` for the next one. See iter_drafts for all of them.
        """
        query = {"status": status, "limit": limit, "cursor": cursor}
        return cast(DraftPage, self._request("GET", "/v1/drafts", query=query, retry="safe"))

    def iter_drafts(self, status: DraftStatus | None = None, limit: int | None = None) -> Iterator[Draft]:
        """Every draft matching ``status``, newest first, fetching pages of ``limit`` as the
        iteration goes (``break`` to stop early)::

            for draft in processa.iter_drafts(status="pending"):
                print(draft["title"])
        """
        cursor: str | None = None
        while True:
            page = self.list_drafts(status=status, limit=limit, cursor=cursor)
            yield from page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return

    def approve(self, draft_id: str, content: Mapping[str, Any] | None = None, approval_round: int | None = None) -> Draft:
        """POST /v1/drafts/{id}/approve (reviewer, admin), optionally with edited ``content``.

        ``approval_round``: the draft's ``approvalRound`` as you read it; if someone edited the
        content since, the approval is refused (ConflictError, ``code`` ``content_changed``).
        Raises ConflictError (``code`` ``already_decided``, ``.draft`` the state that won) if the
        draft was already decided. Not retried after an ambiguous failure: get() tells what happened.
        """
        body: dict[str, Any] = {} if content is None else {"content": dict(content)}
        if approval_round is not None:
            body["approvalRound"] = approval_round
        return cast(Draft, self._request("POST", _draft_path(draft_id) + "/approve", body=body, retry="conditional"))

    def reject(self, draft_id: str, reason: str | None = None) -> Draft:
        """POST /v1/drafts/{id}/reject (reviewer, admin), optionally with a reason (≤ 1000 chars).
        Raises ConflictError if already decided."""
        body = {} if reason is None else {"reason": reason}
        return cast(Draft, self._request("POST", _draft_path(draft_id) + "/reject", body=body, retry="conditional"))

    def wait_for_decision(self, draft_id: str, timeout: float, *, poll_interval: float = 1.0, max_poll_interval: float = 10.0) -> Draft:
        """Polls the draft until it is no longer pending and returns it.

        Check ``status``: ``approved`` (execute ``content``, the approved and possibly edited
        version), ``rejected`` (see ``rejectionReason``) or ``expired``. Pauses grow from
        ``poll_interval`` to ``max_poll_interval`` seconds. Raises DecisionTimeoutError (``.draft``
        is the last state seen) once ``timeout`` seconds have passed. In production prefer webhooks
        for acting on decisions; this suits agents that block on one.
        """
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout >= 0:
            raise ValueError("wait_for_decision: timeout must be a number of seconds >= 0")
        interval = min(poll_interval, max_poll_interval)
        deadline = time.monotonic() + timeout
        while True:
            draft = self.get(draft_id)
            if draft.get("status") != "pending":
                return draft
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DecisionTimeoutError(draft, timeout)
            # The last pause is cut short so that the final poll happens at the deadline.
            self._sleep(min(interval, remaining))
            interval = min(interval * 2, max_poll_interval)

    # --------------------------------------------------------------- transport

    def backoff(self, retry: int) -> float:
        """Exponential backoff with equal jitter: retry n waits between half and all of base·2ⁿ, capped."""
        ceiling = min(self.retry_max, self.retry_base * 2.0**retry)
        return ceiling / 2 + self._random() * ceiling / 2

    def _request(
        self,
        method: str,
        path: str,
        *,
        retry: RetryMode,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request_headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": self._user_agent,
            **(headers or {}),
        }
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
            request_headers["Content-Type"] = "application/json"

        retry_number = 0
        while True:
            try:
                status, text, response_headers = self._send(method, url, data, request_headers)
            except _NetworkFailure as failure:
                message = f"{method} {path} failed: {_describe(failure.cause, self.timeout)}"
                if isinstance(failure.cause, urllib.error.URLError) and isinstance(failure.cause.reason, ssl.SSLCertVerificationError):
                    raise APIConnectionError("connection_error", message) from failure.cause
                if retry == "conditional" and not failure.before_sending:
                    raise APIConnectionError(
                        "connection_error",
                        f"{message}. The request may or may not have been applied; read the draft to find out",
                    ) from failure.cause
                if retry_number >= self.max_retries:
                    raise APIConnectionError("connection_error", message) from failure.cause
                self._sleep(self.backoff(retry_number))
                retry_number += 1
                continue

            if 200 <= status < 300:
                try:
                    return json.loads(text)
                except ValueError:
                    raise ProcessaError(
                        "invalid_response",
                        f"Expected a JSON response, got HTTP {status} with {text[:100]!r}",
                        status=status,
                        request_id=response_headers.get("x-request-id"),
                    ) from None

            error = error_from_response(status, text, response_headers)
            if status not in _RETRY_STATUSES[retry] or retry_number >= self.max_retries:
                raise error
            asked = error.retry_after_seconds or 0.0
            # A server asking for a longer pause than we are willing to block for gets its error back.
            if asked > self.max_retry_after:
                raise error
            self._sleep(max(asked, self.backoff(retry_number)))
            retry_number += 1

    def _send(self, method: str, url: str, data: bytes | None, headers: Mapping[str, str]) -> tuple[int, str, Any]:
        """One attempt: (status, body text, headers) for any HTTP answer; _NetworkFailure otherwise."""
        request = urllib.request.Request(url, data=data, headers=dict(headers), method=method)
        try:
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return response.status, response.read().decode("utf-8", errors="replace"), response.headers
            except urllib.error.HTTPError as error:
                with error:
                    return error.code, error.read().decode("utf-8", errors="replace"), error.headers
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            raise _NetworkFailure(error, _failed_before_sending(error)) from error


def _draft_path(draft_id: str) -> str:
    if not isinstance(draft_id, str) or not draft_id:
        raise ValidationError(
            "validation_failed",
            "Invalid request: id: must be a non-empty string",
            details={"fields": [{"field": "id", "message": "must be a non-empty string"}]},
        )
    return "/v1/drafts/" + urllib.parse.quote(draft_id, safe="")


def _iso(value: str | datetime.datetime) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware, e.g. datetime.now(timezone.utc) + timedelta(hours=1)")
    utc = value.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _describe(error: BaseException, timeout: float) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"timed out after {timeout:g} s"
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    return str(reason)
