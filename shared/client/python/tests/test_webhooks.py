"""verify_webhook: Standard Webhooks verification.

Two halves: cases signed here (header shapes, malformed input, the Standard Webhooks spec's own
test vector), and cases signed by the server's TypeScript signing (shared/webhooks/signing.ts),
which test/e2e/python-client.test.ts writes to a JSON file named by PROCESSA_WEBHOOK_FIXTURES.
Without that variable the second half is skipped.
"""

from __future__ import annotations

import base64
import datetime
import email.parser
import hashlib
import hmac
import json
import os
import unittest

from processa_client import VerifiedWebhook, WebhookVerificationError, verify_webhook, verify_webhook_delivery

SECRET = "whsec_" + base64.b64encode(b"a 24-byte test secret!!!").decode()
OTHER = "whsec_" + base64.b64encode(b"some other secret, 24 b.").decode()
NOW = 1_764_000_000
BODY = json.dumps(
    {
        "event": "draft.approved",
        "draft": {"id": "cmlgx2hvq0002k6gve9fuaz0k", "title": "Send welcome email", "content": {"to": "user@example.com", "body": "Grüße ✓"}, "metadata": {}, "reviewedAt": "2026-02-10T12:05:00Z"},
        "timestamp": "2026-02-10T12:05:00Z",
    },
    ensure_ascii=False,
)


def sign(secret: str, webhook_id: str, timestamp: int, body: str | bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    raw = body.encode() if isinstance(body, str) else body
    return "v1," + base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()).decode()


def headers(webhook_id: str = "msg_1", timestamp: int = NOW, body: str = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, webhook_id, timestamp, body)}


class SignedHere(unittest.TestCase):
    def reason(self, *args, **kwargs) -> str:
        with self.assertRaises(WebhookVerificationError) as caught:
            verify_webhook(*args, **kwargs)
        return caught.exception.reason

    def test_standard_webhooks_spec_vector(self) -> None:
        # From the Standard Webhooks test suite: the signature is accepted; the body is no Processa event.
        h = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        self.assertEqual(self.reason('{"test": 2432232314}', h, secret, now=1614265330), "invalid_payload")
        self.assertEqual(self.reason('{"test": 2432232315}', h, secret, now=1614265330), "invalid_signature")
        self.assertEqual(sign(secret, h["webhook-id"], 1614265330, '{"test": 2432232314}'), h["webhook-signature"])

    def test_returns_the_event_and_the_delivery(self) -> None:
        event = verify_webhook(BODY, headers(), SECRET, now=NOW)
        self.assertEqual(event["event"], "draft.approved")
        self.assertEqual(event["draft"]["content"]["body"], "Grüße ✓")
        delivery = verify_webhook_delivery(BODY.encode(), headers(), SECRET, now=NOW)
        self.assertIsInstance(delivery, VerifiedWebhook)
        self.assertEqual(delivery.id, "msg_1")
        self.assertEqual(delivery.timestamp, datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc))
        self.assertEqual(verify_webhook(bytearray(BODY.encode()), headers(), SECRET, now=datetime.datetime.fromtimestamp(NOW, datetime.timezone.utc)), event)

    def test_header_shapes(self) -> None:
        h = headers()
        mixed = {"Webhook-Id": h["webhook-id"], "WEBHOOK-TIMESTAMP": h["webhook-timestamp"], "Webhook-Signature": h["webhook-signature"]}
        message = email.parser.Parser().parsestr("".join(f"{k}: {v}\r\n" for k, v in mixed.items()) + "\r\n", headersonly=True)
        repeated = {**h, "webhook-signature": [sign(OTHER, "msg_1", NOW, BODY), h["webhook-signature"]]}
        for shape in (h, mixed, message, list(mixed.items()), repeated):
            with self.subTest(shape=type(shape).__name__):
                self.assertEqual(verify_webhook(BODY, shape, SECRET, now=NOW)["event"], "draft.approved")

    @unittest.skipUnless(__import__("importlib").util.find_spec("werkzeug"), "werkzeug (Flask) not installed")
    def test_werkzeug_headers(self) -> None:
        from werkzeug.datastructures import Headers

        h = Headers(list(headers().items()))
        h.add("Webhook-Signature", "v1,bm90IGl0")
        self.assertEqual(verify_webhook(BODY, h, SECRET, now=NOW)["event"], "draft.approved")

    def test_several_signatures_and_secrets(self) -> None:
        h = headers()
        rotated = {**h, "webhook-signature": f"{sign(OTHER, 'msg_1', NOW, BODY)} {h['webhook-signature']}"}
        self.assertTrue(verify_webhook(BODY, rotated, SECRET, now=NOW))
        self.assertTrue(verify_webhook(BODY, rotated, OTHER, now=NOW))
        self.assertTrue(verify_webhook(BODY, h, [OTHER, SECRET], now=NOW))
        # Entries of other versions, and undecodable ones, are ignored rather than fatal.
        noisy = {**h, "webhook-signature": f"v1a,{h['webhook-signature'][3:]} v1,%%% {h['webhook-signature']}"}
        self.assertTrue(verify_webhook(BODY, noisy, SECRET, now=NOW))
        self.assertEqual(self.reason(BODY, {**h, "webhook-signature": f"v2,{h['webhook-signature'][3:]}"}, SECRET, now=NOW), "invalid_signature")
        # A secret without the whsec_ prefix is the bare base64 key.
        self.assertTrue(verify_webhook(BODY, h, SECRET.removeprefix("whsec_"), now=NOW))

    def test_refusals(self) -> None:
        h = headers()
        self.assertEqual(self.reason(BODY, h, OTHER, now=NOW), "invalid_signature")
        self.assertEqual(self.reason(BODY.replace("user@", "evil@"), h, SECRET, now=NOW), "invalid_signature")
        self.assertEqual(self.reason(BODY, {**h, "webhook-id": "msg_2"}, SECRET, now=NOW), "invalid_signature")
        self.assertEqual(self.reason(BODY, h, SECRET, now=NOW + 301), "timestamp_too_old")
        self.assertEqual(self.reason(BODY, h, SECRET, now=NOW - 301), "timestamp_too_new")
        self.assertTrue(verify_webhook(BODY, h, SECRET, now=NOW + 300))
        self.assertTrue(verify_webhook(BODY, h, SECRET, now=NOW + 3000, tolerance=3600))
        self.assertEqual(self.reason(BODY, headers(timestamp=NOW - 1000), SECRET), "timestamp_too_old")  # the real clock
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            self.assertEqual(self.reason(BODY, {k: v for k, v in h.items() if k != name}, SECRET, now=NOW), "missing_headers")
        self.assertEqual(self.reason(BODY, {}, SECRET, now=NOW), "missing_headers")
        self.assertEqual(self.reason(BODY, {**h, "webhook-id": ["msg_1", "msg_2"]}, SECRET, now=NOW), "missing_headers")
        for bad in ("abc", "١٧٦٤٠٠٠٠٠٠", "-1", "1764000000.5", "9" * 16):
            self.assertEqual(self.reason(BODY, {**h, "webhook-timestamp": bad}, SECRET, now=NOW), "invalid_timestamp", bad)
        for body in ("not json", '["a list"]', '{"event": "draft.approved"}', b"\xff\xfe"):
            signed = {**h, "webhook-signature": sign(SECRET, "msg_1", NOW, body)}
            self.assertEqual(self.reason(body, signed, SECRET, now=NOW), "invalid_payload", body)

    def test_bad_secrets_are_programming_errors(self) -> None:
        secrets: list[str | list[str]] = ["whsec_", "whsec_***", "", []]
        for secret in secrets:
            with self.subTest(secret=secret), self.assertRaises(ValueError):
                verify_webhook(BODY, headers(), secret, now=NOW)


@unittest.skipUnless(os.environ.get("PROCESSA_WEBHOOK_FIXTURES"), "PROCESSA_WEBHOOK_FIXTURES not set (test/e2e/python-client.test.ts sets it)")
class SignedByTheServer(unittest.TestCase):
    """Each case: the body and headers shared/webhooks/signing.ts produced, the secret(s) to verify
    with, the time to verify at (null: the real clock), and the expected outcome ("ok", with the
    webhook-id, or a failure reason)."""

    def test_cases(self) -> None:
        with open(os.environ["PROCESSA_WEBHOOK_FIXTURES"], encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        self.assertGreaterEqual(len(cases), 10)
        for case in cases:
            with self.subTest(case["name"]):
                kwargs = {"now": case["now"]} if case.get("now") is not None else {}
                if case["expect"] == "ok":
                    delivery = verify_webhook_delivery(case["body"].encode("utf-8"), case["headers"], case["secret"], **kwargs)
                    self.assertEqual(delivery.id, case["id"])
                    self.assertEqual(delivery.event, json.loads(case["body"]))
                else:
                    with self.assertRaises(WebhookVerificationError) as caught:
                        verify_webhook(case["body"], case["headers"], case["secret"], **kwargs)
                    self.assertEqual(caught.exception.reason, case["expect"])
        print(f"\n{len(cases)} cases signed by shared/webhooks/signing.ts", end=" ")


if __name__ == "__main__":
    unittest.main()
