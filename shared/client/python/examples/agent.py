"""An agent that submits a draft and blocks until a person decides it.

    PYTHONPATH=shared/client/python PROCESSA_URL=http://localhost:3000 PROCESSA_API_KEY=prk_... \
        python3 shared/client/python/examples/agent.py

(or `pip install ./shared/client/python` and drop PYTHONPATH). Exits 0 once decided, 2 if nobody
decided within PROCESSA_WAIT_SECONDS (default one hour).
"""

import json
import os
import sys

from processa_client import DecisionTimeoutError, ProcessaClient, ProcessaError


def main() -> int:
    processa = ProcessaClient(os.environ.get("PROCESSA_URL", "http://localhost:3000"), os.environ["PROCESSA_API_KEY"])
    try:
        draft = processa.create(
            "Send welcome email",
            {"to": "user@example.com", "subject": "Welcome!", "body": "Hello..."},
            metadata={"source": "ai_agent_v1"},
        )
        print(f"Draft {draft['id']} is waiting for review: {draft['reviewUrl']}", flush=True)
        decided = processa.wait_for_decision(draft["id"], timeout=float(os.environ.get("PROCESSA_WAIT_SECONDS", "3600")))
    except DecisionTimeoutError as error:
        print(f"Nobody decided draft {error.draft['id']} in time; giving up", file=sys.stderr)
        return 2
    except ProcessaError as error:
        print(f"Processa refused: {error}", file=sys.stderr)  # e.g. HTTP 401 unauthorized: ...
        return 1

    who = decided["reviewedBy"]["name"] if decided["reviewedBy"] else "someone"
    if decided["status"] == "approved":
        # Execute the approved content: the reviewer may have edited it.
        print(f"Approved by {who}: {json.dumps(decided['content'])}")
    elif decided["status"] == "rejected":
        print(f"Rejected by {who}: {decided.get('rejectionReason')}")
    else:
        print(f"Draft {decided['id']} {decided['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
