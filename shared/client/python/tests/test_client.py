"""ProcessaClient against a scripted local HTTP server: retries, Retry-After, Idempotency-Key
reuse, typed errors, no redirects, URL handling and polling. No Processa runtime needed."""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from processa_client import (
    APIConnectionError,
    AuthenticationError,
    ConflictError,
    DecisionTimeoutError,
    GatewayError,
    IdempotencyKeyReusedError,
    InternalServerError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ProcessaClient,
    ProcessaError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from processa_client.client import normalize_base_url
from processa_client.errors import parse_retry_after

DRAFT = {"id": "c1", "title": "t", "content": {}, "metadata": {}, "status": "pending", "reviewUrl": "http://x/review/c1"}

# A scripted answer: (status, headers, body) or "drop" (close the connection without answering)
# or ("sleep", seconds, answer).
Answer = Any


class FakeApi:
    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.requests: list[dict[str, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                api.requests.append({"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                answer = api.script.pop(0) if api.script else (200, {}, DRAFT)
                if isinstance(answer, tuple) and answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = answer[2]
                if answer == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, payload = answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"content-type": "application/json", "x-request-id": f"req-{len(api.requests)}", **headers}.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (the timeout test)

            do_GET = do_POST = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def api_error(status: int, code: str, message: str = "m", details: Any = None, headers: dict[str, str] | None = None) -> Answer:
    return (status, headers or {}, {"error": {"code": code, "message": message, **({"details": details} if details is not None else {})}})


class ClientTest(unittest.TestCase):
    def setUp(self) -> None:
        self.api = FakeApi()
        self.addCleanup(self.api.close)
        self.sleeps: list[float] = []
        self.client = self.make()

    def make(self, **options: Any) -> ProcessaClient:
        return ProcessaClient(self.api.url + "/v1/", "prk_test", sleep=self.sleeps.append, random=lambda: 0.5, **options)

    def test_base_url_with_or_without_v1(self) -> None:
        self.assertEqual(normalize_base_url("http://localhost:3000"), "http://localhost:3000")
        self.assertEqual(normalize_base_url("http://localhost:3000/"), "http://localhost:3000")
        self.assertEqual(normalize_base_url("http://localhost:3000/v1"), "http://localhost:3000")
        self.assertEqual(normalize_base_url(" http://localhost:3000/v1// "), "http://localhost:3000")
        self.assertEqual(normalize_base_url("https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1"), "https://abc.execute-api.eu-west-1.amazonaws.com/prod")
        for bad in ("", "localhost:3000", "ftp://x", "http://x/?a=1"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                normalize_base_url(bad)
        with self.assertRaises(ValueError):
            ProcessaClient("http://x", "")
        self.assertNotIn("prk_test", repr(self.client))
        self.client.get("c1")
        self.assertEqual(self.api.requests[0]["path"], "/v1/drafts/c1")

    def test_requests_carry_the_key_json_and_an_idempotency_key(self) -> None:
        self.api.script = [(201, {}, DRAFT), (201, {}, DRAFT), (201, {}, DRAFT)]
        expires = datetime.datetime(2030, 1, 2, 3, 4, 5, 678900, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
        self.client.create("Grüße", {"a": 1}, metadata={"k": "v"}, expires_at=expires)
        self.client.create("Grüße", {"a": 1})
        self.client.create("t", {}, idempotency_key="task-42")
        first, second, third = self.api.requests
        self.assertEqual((first["method"], first["path"]), ("POST", "/v1/drafts"))
        self.assertEqual(first["headers"]["authorization"], "Bearer prk_test")
        self.assertEqual(first["headers"]["content-type"], "application/json")
        self.assertEqual(first["headers"]["accept"], "application/json")
        self.assertRegex(first["headers"]["user-agent"], r"^processa-python/")
        self.assertEqual(json.loads(first["body"]), {"title": "Grüße", "content": {"a": 1}, "metadata": {"k": "v"}, "expiresAt": "2030-01-02T01:04:05.678Z"})
        self.assertRegex(first["headers"]["idempotency-key"], r"^[0-9a-f-]{36}$")
        self.assertNotEqual(first["headers"]["idempotency-key"], second["headers"]["idempotency-key"])
        self.assertEqual(third["headers"]["idempotency-key"], "task-42")
        with self.assertRaises(ValueError):
            self.client.create("t", {}, expires_at=datetime.datetime(2030, 1, 1))

    def test_paths_and_queries(self) -> None:
        self.api.script = [(200, {}, {"items": [], "nextCursor": None})] * 2 + [(200, {}, DRAFT)] * 3
        self.client.list_drafts()
        self.client.list_drafts(status="pending", limit=2, cursor="a b/c+=")
        self.client.get("weird/id?")
        self.client.approve("c1", {"to": "x"})
        self.client.reject("c1", "no")
        paths = [r["path"] for r in self.api.requests]
        self.assertEqual(paths[0], "/v1/drafts")
        self.assertEqual(urllib.parse.parse_qs(urllib.parse.urlsplit(paths[1]).query), {"status": ["pending"], "limit": ["2"], "cursor": ["a b/c+="]})
        self.assertEqual(paths[2], "/v1/drafts/weird%2Fid%3F")
        self.assertEqual((paths[3], json.loads(self.api.requests[3]["body"])), ("/v1/drafts/c1/approve", {"content": {"to": "x"}}))
        self.assertEqual((paths[4], json.loads(self.api.requests[4]["body"])), ("/v1/drafts/c1/reject", {"reason": "no"}))
        self.client.approve("c1")
        self.client.reject("c1")
        self.assertEqual([json.loads(r["body"]) for r in self.api.requests[5:]], [{}, {}])
        with self.assertRaises(ValidationError) as caught:
            self.client.get("")
        self.assertEqual(caught.exception.fields, [{"field": "id", "message": "must be a non-empty string"}])

    def test_iter_drafts_follows_cursors(self) -> None:
        def page(ids: list[str], cursor: str | None) -> Answer:
            return (200, {}, {"items": [{**DRAFT, "id": i} for i in ids], "nextCursor": cursor})

        self.api.script = [page(["c3", "c2"], "n1"), page(["c1"], None)]
        self.assertEqual([d["id"] for d in self.client.iter_drafts(status="pending", limit=2)], ["c3", "c2", "c1"])
        self.assertEqual([r["path"] for r in self.api.requests], ["/v1/drafts?status=pending&limit=2", "/v1/drafts?status=pending&limit=2&cursor=n1"])

    def test_typed_errors_carry_code_status_details_and_request_id(self) -> None:
        winner = {**DRAFT, "status": "approved"}
        cases = [
            (api_error(400, "validation_failed", "title: required", {"fields": [{"field": "title", "message": "required"}]}), ValidationError),
            (api_error(401, "unauthorized"), AuthenticationError),
            (api_error(403, "forbidden"), PermissionDeniedError),
            (api_error(404, "not_found"), NotFoundError),
            (api_error(409, "already_decided", details={"draft": winner}), ConflictError),
            (api_error(413, "payload_too_large"), PayloadTooLargeError),
            (api_error(415, "unsupported_media_type"), UnsupportedMediaTypeError),
            (api_error(422, "idempotency_key_reused"), IdempotencyKeyReusedError),
            (api_error(500, "internal_error"), InternalServerError),
            (api_error(418, "teapot"), ProcessaError),
        ]
        for answer, cls in cases:
            self.api.script = [answer]
            with self.subTest(cls=cls.__name__), self.assertRaises(cls) as caught:
                self.client.reject("c1")
            error = caught.exception
            self.assertIs(type(error), cls)
            self.assertIsInstance(error, ProcessaError)
            self.assertEqual((error.status, error.code), (answer[0], answer[2]["error"]["code"]))
            self.assertEqual(error.request_id, f"req-{len(self.api.requests)}")
            self.assertIn(error.code, str(error))
        self.api.script = [cases[0][0]]
        with self.assertRaises(ValidationError) as invalid:
            self.client.create("", {})
        self.assertEqual(invalid.exception.fields, [{"field": "title", "message": "required"}])
        self.api.script = [cases[4][0]]
        with self.assertRaises(ConflictError) as conflict:
            self.client.approve("c1")
        self.assertEqual(conflict.exception.draft, winner)
        self.assertEqual(self.sleeps, [])

    def test_other_error_bodies(self) -> None:
        self.api.script = [(429, {"retry-after": "120"}, {"message": "Too Many Requests"}), (502, {"content-type": "text/html"}, b"<html>Bad Gateway</html>"), (200, {}, b"not json")]
        with self.assertRaises(RateLimitError) as throttled:
            self.client.get("c1")
        self.assertEqual((throttled.exception.code, throttled.exception.message, throttled.exception.retry_after_seconds), ("http_429", "Too Many Requests", 120.0))
        with self.assertRaises(GatewayError) as gateway:
            self.client.approve("c1")
        self.assertEqual((gateway.exception.code, gateway.exception.message), ("http_502", "HTTP 502: <html>Bad Gateway</html>"))
        with self.assertRaises(ProcessaError) as invalid:
            self.client.get("c1")
        self.assertEqual((invalid.exception.code, invalid.exception.status), ("invalid_response", 200))

    def test_safe_requests_retry_with_backoff_and_keep_the_idempotency_key(self) -> None:
        self.api.script = [api_error(503, "busy", headers={"retry-after": "0"}), api_error(502, "bad_gateway"), (429, {}, {"message": "slow down"}), api_error(504, "timeout"), (201, {}, DRAFT)]
        with self.assertRaises(GatewayError):
            self.client.create("t", {})  # 4 attempts: 3 retries, then the 504 is raised
        keys = {r["headers"]["idempotency-key"] for r in self.api.requests}
        self.assertEqual((len(self.api.requests), len(keys)), (4, 1))
        # Equal jitter with random() = 0.5: three quarters of 0.5·2ⁿ.
        self.assertEqual(self.sleeps, [0.375, 0.75, 1.5])
        self.assertEqual(self.client.create("t", {})["id"], "c1")

    def test_retry_after_is_honoured_up_to_a_limit(self) -> None:
        self.api.script = [api_error(429, "throttled", headers={"retry-after": "7"}), (200, {}, DRAFT)]
        self.client.get("c1")
        self.assertEqual(self.sleeps, [7.0])
        self.api.script = [api_error(503, "busy", headers={"retry-after": "61"})]
        with self.assertRaises(ServiceUnavailableError) as caught:
            self.client.get("c1")
        self.assertEqual(caught.exception.retry_after_seconds, 61.0)
        self.assertEqual(self.sleeps, [7.0])
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470), 10.0)
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))

    def test_decisions_are_retried_only_when_nothing_was_applied(self) -> None:
        self.api.script = [api_error(503, "busy"), api_error(429, "throttled"), (200, {}, {**DRAFT, "status": "approved"})]
        self.assertEqual(self.client.approve("c1")["status"], "approved")
        self.assertEqual(len(self.api.requests), 3)
        for answer in (api_error(502, "bad_gateway"), api_error(504, "timeout"), api_error(500, "internal_error")):
            self.api.script = [answer, (200, {}, DRAFT)]
            before = len(self.api.requests)
            with self.assertRaises(ProcessaError):
                self.client.reject("c1")
            self.assertEqual(len(self.api.requests), before + 1)

    def test_a_dropped_connection(self) -> None:
        self.api.script = ["drop", (200, {}, DRAFT)]
        self.assertEqual(self.client.get("c1")["id"], "c1")  # a read is retried
        self.api.script = ["drop", (200, {}, DRAFT)]
        with self.assertRaises(APIConnectionError) as caught:
            self.client.approve("c1")  # a decision may have been applied: not retried
        self.assertEqual(caught.exception.code, "connection_error")
        self.assertIsNone(caught.exception.status)
        self.assertIn("may or may not have been applied", caught.exception.message)
        self.assertEqual(len(self.api.requests), 3)

    def test_a_refused_connection_is_retried_even_for_decisions(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = ProcessaClient(f"http://127.0.0.1:{port}", "prk_test", sleep=self.sleeps.append, random=lambda: 0.0, max_retries=2)
        with self.assertRaises(APIConnectionError) as caught:
            client.approve("c1")
        self.assertEqual(self.sleeps, [0.25, 0.5])
        self.assertNotIn("may or may not", caught.exception.message)
        self.assertIsInstance(caught.exception.__cause__, OSError)

    def test_timeout(self) -> None:
        self.api.script = [("sleep", 1.0, (200, {}, DRAFT))]
        client = self.make(timeout=0.2, max_retries=0)
        with self.assertRaises(APIConnectionError) as caught:
            client.get("c1")
        self.assertIn("timed out after 0.2 s", caught.exception.message)

    def test_redirects_are_not_followed(self) -> None:
        self.api.script = [(302, {"location": "/elsewhere"}, b"")]
        with self.assertRaises(ProcessaError) as caught:
            self.client.get("c1")
        self.assertEqual((caught.exception.status, caught.exception.code), (302, "http_302"))
        self.assertEqual(len(self.api.requests), 1)

    def test_wait_for_decision_polls_with_growing_pauses(self) -> None:
        pending: Answer = (200, {}, DRAFT)
        self.api.script = [pending] * 5 + [(200, {}, {**DRAFT, "status": "rejected", "rejectionReason": "no"})]
        decided = self.client.wait_for_decision("c1", timeout=60, poll_interval=1, max_poll_interval=4)
        self.assertEqual(decided["rejectionReason"], "no")
        self.assertEqual(self.sleeps, [1, 2, 4, 4, 4])

    def test_wait_for_decision_times_out_with_the_last_state(self) -> None:
        real = ProcessaClient(self.api.url, "prk_test")
        started = time.monotonic()
        with self.assertRaises(DecisionTimeoutError) as caught:
            real.wait_for_decision("c1", timeout=0.3, poll_interval=0.1)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual((caught.exception.code, caught.exception.draft["status"], caught.exception.timeout), ("decision_timeout", "pending", 0.3))
        self.assertGreaterEqual(len(self.api.requests), 3)
        with self.assertRaises(ValueError):
            real.wait_for_decision("c1", timeout=-1)


if __name__ == "__main__":
    unittest.main()
