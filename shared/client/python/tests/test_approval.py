"""@require_approval: offline checks of what it sends and how it checks approved arguments, and
the decorator against a real Processa (`npm run dev`'s runtime, started by
test/e2e/python-client.test.ts with PROCESSA_URL and the agent and reviewer keys; those tests are
skipped without them) with a reviewer deciding from another thread."""

from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
import unittest
import uuid
from typing import Any, Literal

from processa_client import ApprovedArgumentsInvalidError, ProcessaClient, is_approval_outcome, require_approval
from processa_client.approval import _problems, _title

URL = os.environ.get("PROCESSA_URL", "")


def send_email(to: str, subject: str, body: str = "", priority: Literal["low", "high"] = "low", cc: list[str] | None = None) -> str:
    return f"sent {subject!r} to {to}"


class Offline(unittest.TestCase):
    def test_title_template(self) -> None:
        args = {"to": "user@example.com", "amount": 12.5, "items": [1, 2]}
        self.assertEqual(_title("Send email to {to}", "send_email", args), "Send email to user@example.com")
        self.assertEqual(_title(None, "send_email", args), "Run send_email")
        self.assertEqual(_title("{tool}: {amount} for {items} {missing}", "pay", args), "pay: 12.5 for [1, 2] {missing}")
        self.assertEqual(_title(lambda a: f"To {a['to']}", "x", args), "To user@example.com")
        self.assertEqual(len(_title("x" * 300, "x", args)), 200)
        self.assertEqual(_title("{to!r:bad", "x", args), "{to!r:bad")  # a broken template is used as written

    def test_problems_name_the_fields(self) -> None:
        sig = inspect.signature(send_email)
        hints = {"to": str, "subject": str, "body": str, "priority": Literal["low", "high"], "cc": list[str] | None}
        self.assertEqual(_problems(sig, hints, {"to": "a", "subject": "s"}), [])
        self.assertEqual(_problems(sig, hints, {"to": "a", "subject": "s", "cc": None, "priority": "high"}), [])
        self.assertEqual(
            _problems(sig, hints, {"to": 42, "priority": "urgent", "cc": "x", "bcc": "y"}),
            [
                {"field": "to", "message": "must be a string"},
                {"field": "subject", "message": "is required"},
                {"field": "priority", "message": 'must be one of "low", "high"'},
                {"field": "cc", "message": "must be a list or null"},
                {"field": "bcc", "message": "is not a parameter of the function"},
            ],
        )
        self.assertEqual(_problems(sig, hints, ["a"]), [{"field": "arguments", "message": "must be an object of the function's arguments"}])
        self.assertEqual(_problems(inspect.signature(lambda n: n), {"n": float}, {"n": True}), [{"field": "n", "message": "must be a number"}])

    def test_options_are_checked_when_decorating(self) -> None:
        client = ProcessaClient("http://localhost:9", "prk_x")
        with self.assertRaisesRegex(TypeError, "client must be a ProcessaClient"):
            require_approval("not a client")  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "timeout must be"):
            require_approval(client, timeout=-1)
        with self.assertRaisesRegex(TypeError, "agent must be a string"):
            require_approval(client, agent=3)  # type: ignore[arg-type]

    def test_a_wrong_call_fails_before_anyone_is_asked(self) -> None:
        # Port 9 (discard) on localhost: any request would fail with a connection error instead.
        wrapped = require_approval(ProcessaClient("http://localhost:9", "prk_x", max_retries=0))(send_email)
        with self.assertRaisesRegex(TypeError, "missing a required argument: 'subject'"):
            wrapped(to="a")
        with self.assertRaisesRegex(TypeError, "argument body cannot be sent for review as JSON"):
            wrapped(to="a", subject="s", body=object())  # type: ignore[arg-type]
        self.assertEqual(wrapped.__name__, "send_email")


@unittest.skipUnless(URL and os.environ.get("PROCESSA_AGENT_KEY"), "PROCESSA_URL and keys not set (test/e2e/python-client.test.ts sets them)")
class AgainstTheDevRuntime(unittest.TestCase):
    agent: ProcessaClient
    reviewer: ProcessaClient

    @classmethod
    def setUpClass(cls) -> None:
        cls.agent = ProcessaClient(URL, os.environ["PROCESSA_AGENT_KEY"])
        cls.reviewer = ProcessaClient(URL, os.environ["PROCESSA_REVIEWER_KEY"])

    def draft_for(self, call_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            for draft in self.reviewer.iter_drafts(limit=100):
                if draft["metadata"].get("toolCallId") == call_id:
                    return dict(draft)
            time.sleep(0.1)
        raise AssertionError(f"no draft for {call_id}")

    def decide_in_background(self, call_id: str, decide: Any) -> dict[str, Any]:
        """Runs decide(draft) in a thread once the draft exists; returns a dict filled with the draft."""
        seen: dict[str, Any] = {}

        def run() -> None:
            seen.update(self.draft_for(call_id))
            decide(seen)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 20)
        return seen

    def test_approved_with_an_edit_runs_with_the_edited_arguments_once(self) -> None:
        calls: list[dict[str, Any]] = []

        @require_approval(self.agent, title="Send email to {to}", timeout=20, agent="py-bot", run_id="run-7", poll_interval=0.1)
        def send(to: str, subject: str, body: str) -> str:
            calls.append({"to": to, "subject": subject, "body": body})
            return f"sent to {to}"

        call_id = f"py-approve-{uuid.uuid4()}"
        edited = {"to": "edited@example.com", "subject": "Welcome!", "body": "Edited by a person"}
        seen = self.decide_in_background(call_id, lambda d: self.reviewer.approve(d["id"], {"tool": "send", "arguments": edited}))
        result = send("user@example.com", "Welcome!", body="Hello...", tool_call_id=call_id)
        self.assertEqual(result, "sent to edited@example.com")
        self.assertEqual(calls, [edited])
        self.assertEqual(seen["title"], "Send email to user@example.com")
        self.assertEqual(seen["content"], {"tool": "send", "arguments": {"to": "user@example.com", "subject": "Welcome!", "body": "Hello..."}})
        self.assertEqual(seen["metadata"], {"tool": "send", "agent": "py-bot", "runId": "run-7", "toolCallId": call_id})
        # A retry of the same tool call finds the same, already approved draft.
        self.assertEqual(send("user@example.com", "Welcome!", body="Hello...", tool_call_id=call_id), "sent to edited@example.com")
        self.assertEqual(len([d for d in self.reviewer.iter_drafts(limit=100) if d["metadata"].get("toolCallId") == call_id]), 1)

    def test_rejected_does_not_run_and_says_why(self) -> None:
        calls: list[str] = []

        @require_approval(self.agent, timeout=20, poll_interval=0.1)
        def refund(order: int, amount: float) -> str:
            calls.append("ran")
            return "refunded"

        call_id = f"py-reject-{uuid.uuid4()}"
        self.decide_in_background(call_id, lambda d: self.reviewer.reject(d["id"], "Already refunded"))
        outcome = refund(17, 20.0, tool_call_id=call_id)
        self.assertEqual(calls, [])
        self.assertTrue(is_approval_outcome(outcome))
        self.assertEqual((outcome["approval"], outcome["reason"]), ("rejected", "Already refunded"))
        self.assertIn("did not run. Their reason: Already refunded", outcome["message"])

    def test_no_decision_in_time_does_not_run(self) -> None:
        calls: list[str] = []

        @require_approval(self.agent, timeout=1, poll_interval=0.2)
        def delete_account(user_id: str) -> None:
            calls.append(user_id)

        outcome = delete_account("u_1")
        self.assertEqual(calls, [])
        self.assertEqual(outcome["approval"], "timed_out")
        self.assertEqual(self.agent.get(outcome["draftId"])["status"], "pending")
        self.assertIn("within 1 s, so the tool did not run", outcome["message"])

    def test_an_edit_that_no_longer_fits_raises_naming_the_fields(self) -> None:
        calls: list[str] = []

        @require_approval(self.agent, timeout=20, poll_interval=0.1)
        def pay(amount: float, currency: Literal["EUR", "USD"]) -> None:
            calls.append("ran")

        call_id = f"py-bad-edit-{uuid.uuid4()}"
        self.decide_in_background(call_id, lambda d: self.reviewer.approve(d["id"], {"arguments": {"amount": "ten", "currency": "GBP"}}))
        with self.assertRaises(ApprovedArgumentsInvalidError) as caught:
            pay(10, "EUR", tool_call_id=call_id)
        self.assertEqual(calls, [])
        self.assertEqual([f["field"] for f in caught.exception.fields], ["amount", "currency"])
        self.assertIn("amount: must be a number; currency: must be one of", str(caught.exception))

    def test_a_coroutine_function(self) -> None:
        @require_approval(self.agent, timeout=20, poll_interval=0.1)
        async def post_message(channel: str, text: str) -> str:
            return f"{channel}: {text}"

        call_id = f"py-async-{uuid.uuid4()}"
        self.decide_in_background(call_id, lambda d: self.reviewer.approve(d["id"]))
        self.assertEqual(asyncio.run(post_message("#general", "hi", tool_call_id=call_id)), "#general: hi")


if __name__ == "__main__":
    unittest.main()
