"""ProcessaClient against a real Processa: `npm run dev`'s runtime, started by
test/e2e/python-client.test.ts, which passes PROCESSA_URL and the keys of an agent, a reviewer
(named alice) and an admin. Skipped without them."""

from __future__ import annotations

import os
import threading
import time
import unittest
import uuid

from processa_client import (
    AuthenticationError,
    ConflictError,
    DecisionTimeoutError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PermissionDeniedError,
    ProcessaClient,
    ProcessaError,
    ValidationError,
)

URL = os.environ.get("PROCESSA_URL", "")
EMAIL = {"to": "user@example.com", "subject": "Welcome!", "body": "Hello..."}


@unittest.skipUnless(URL and os.environ.get("PROCESSA_AGENT_KEY"), "PROCESSA_URL and keys not set (test/e2e/python-client.test.ts sets them)")
class AgainstTheDevRuntime(unittest.TestCase):
    agent: ProcessaClient
    reviewer: ProcessaClient
    admin: ProcessaClient

    @classmethod
    def setUpClass(cls) -> None:
        cls.agent = ProcessaClient(URL, os.environ["PROCESSA_AGENT_KEY"])
        # The URL as `npm run dev` prints it with /v1 appended: the same API.
        cls.reviewer = ProcessaClient(URL.rstrip("/") + "/v1/", os.environ["PROCESSA_REVIEWER_KEY"])
        cls.admin = ProcessaClient(URL, os.environ["PROCESSA_ADMIN_KEY"])

    def test_create_is_idempotent(self) -> None:
        key = f"py-{uuid.uuid4()}"
        first = self.agent.create("Send welcome email", EMAIL, metadata={"source": "ai_agent_v1"}, idempotency_key=key)
        self.assertEqual(first["status"], "pending")
        self.assertEqual(first["reviewUrl"], f"{URL}/review/{first['id']}")
        self.assertEqual((first["content"], first["metadata"]), (EMAIL, {"source": "ai_agent_v1"}))
        replay = self.agent.create("Send welcome email", EMAIL, metadata={"source": "ai_agent_v1"}, idempotency_key=key)
        self.assertEqual(replay["id"], first["id"])
        self.assertEqual(replay["createdAt"], first["createdAt"])
        with self.assertRaises(IdempotencyKeyReusedError) as caught:
            self.agent.create("Another email", EMAIL, idempotency_key=key)
        self.assertEqual((caught.exception.status, caught.exception.code), (422, "idempotency_key_reused"))
        # Without a key of the caller's, each call gets its own: two creates, two drafts.
        self.assertNotEqual(self.agent.create("t", {})["id"], self.agent.create("t", {})["id"])

    def test_get(self) -> None:
        created = self.agent.create("Refund", {"amount": 10, "currency": "EUR"})
        got = self.agent.get(created["id"])
        self.assertEqual({k: got[k] for k in ("id", "title", "content", "status", "createdAt")}, {k: created[k] for k in ("id", "title", "content", "status", "createdAt")})
        self.assertEqual(got["createdBy"]["role"], "agent")
        self.assertEqual([h["action"] for h in got["history"]], ["created"])
        with self.assertRaises(NotFoundError) as caught:
            self.agent.get("c" + "0" * 24)
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "not_found"))

    def test_list_and_pages(self) -> None:
        tag = f"py-list-{uuid.uuid4()}"
        created = [self.agent.create(f"page {i}", {"i": i}, metadata={"tag": tag})["id"] for i in range(5)]
        page = self.reviewer.list_drafts(status="pending", limit=2)
        self.assertEqual(len(page["items"]), 2)
        self.assertIsInstance(page["nextCursor"], str)
        second = self.reviewer.list_drafts(status="pending", limit=2, cursor=page["nextCursor"])
        self.assertFalse({d["id"] for d in page["items"]} & {d["id"] for d in second["items"]})
        seen = []
        for draft in self.reviewer.iter_drafts(status="pending", limit=2):
            self.assertEqual(draft["status"], "pending")
            if draft["metadata"].get("tag") == tag:
                seen.append(draft["id"])
            if len(seen) == len(created):
                break
        self.assertEqual(seen, created[::-1])  # newest first

    def test_approve_with_edited_content_then_409(self) -> None:
        draft = self.agent.create("Send welcome email", EMAIL)
        edited = {**EMAIL, "body": "Hello, edited"}
        approved = self.reviewer.approve(draft["id"], content=edited)
        self.assertEqual((approved["status"], approved["content"], approved["originalContent"]), ("approved", edited, EMAIL))
        self.assertEqual(approved["reviewedBy"]["name"], "alice")
        with self.assertRaises(ConflictError) as caught:
            self.admin.reject(draft["id"], reason="too late")
        error = caught.exception
        self.assertEqual((error.status, error.code), (409, "already_decided"))
        self.assertTrue(error.request_id)
        assert error.draft is not None
        self.assertEqual((error.draft["status"], error.draft["reviewedAt"]), ("approved", approved["reviewedAt"]))
        with self.assertRaises(ConflictError):
            self.reviewer.approve(draft["id"])

    def test_approval_round_refuses_an_approval_of_content_edited_since(self) -> None:
        draft = self.agent.create("Wire money", {"amount": 900}, required_approvals=2)
        self.assertEqual((draft["requiredApprovals"], draft["reviewers"], draft["approvalRound"]), (2, [], 0))
        read = self.reviewer.get(draft["id"])
        edited = self.admin.approve(draft["id"], content={"amount": 90})
        self.assertEqual((edited["status"], edited["approvalRound"]), ("pending", 1))
        with self.assertRaises(ConflictError) as caught:
            self.reviewer.approve(draft["id"], approval_round=read["approvalRound"])
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "content_changed"))
        approved = self.reviewer.approve(draft["id"], approval_round=1)
        self.assertEqual((approved["status"], approved["content"]), ("approved", {"amount": 90}))

    def test_reject_with_reason(self) -> None:
        draft = self.agent.create("Refund", {"amount": 10})
        rejected = self.reviewer.reject(draft["id"], reason="Content violates policy")
        self.assertEqual((rejected["status"], rejected["rejectionReason"]), ("rejected", "Content violates policy"))
        self.assertEqual(self.agent.get(draft["id"])["status"], "rejected")

    def test_401_403_400_are_typed(self) -> None:
        with self.assertRaises(AuthenticationError) as unknown:
            ProcessaClient(URL, "prk_nobody").get("c1")
        self.assertEqual((unknown.exception.status, unknown.exception.code), (401, "unauthorized"))
        draft = self.agent.create("Mine", {})
        with self.assertRaises(PermissionDeniedError) as forbidden:
            self.agent.approve(draft["id"])
        self.assertEqual((forbidden.exception.status, forbidden.exception.code), (403, "forbidden"))
        with self.assertRaises(ValidationError) as invalid:
            self.agent.create("", EMAIL)
        self.assertEqual((invalid.exception.status, invalid.exception.code), (400, "validation_failed"))
        self.assertEqual([f["field"] for f in invalid.exception.fields], ["title"])
        self.assertIn("title", invalid.exception.message)
        with self.assertRaises(ValidationError) as nested:
            self.agent.create("x", EMAIL, metadata={"nested": {"a": 1}})  # type: ignore[dict-item]  # deliberately invalid
        self.assertTrue(nested.exception.fields[0]["field"].startswith("metadata"))
        for error in (unknown.exception, forbidden.exception, invalid.exception):
            self.assertIsInstance(error, ProcessaError)
            self.assertTrue(error.request_id)

    def test_wait_for_decision_returns_when_a_reviewer_decides_meanwhile(self) -> None:
        draft = self.agent.create("Send welcome email", EMAIL)
        edited = {**EMAIL, "to": "edited@example.com"}
        reviewer = threading.Timer(0.5, lambda: self.reviewer.approve(draft["id"], content=edited))
        reviewer.start()
        self.addCleanup(reviewer.cancel)
        started = time.monotonic()
        decided = self.agent.wait_for_decision(draft["id"], timeout=20, poll_interval=0.2)
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual((decided["status"], decided["content"], decided["reviewedBy"]["name"]), ("approved", edited, "alice"))

    def test_wait_for_decision_times_out(self) -> None:
        draft = self.agent.create("Nobody looks at this", {})
        with self.assertRaises(DecisionTimeoutError) as caught:
            self.agent.wait_for_decision(draft["id"], timeout=0.5, poll_interval=0.1)
        self.assertEqual((caught.exception.code, caught.exception.draft["id"], caught.exception.draft["status"]), ("decision_timeout", draft["id"], "pending"))


if __name__ == "__main__":
    unittest.main()
