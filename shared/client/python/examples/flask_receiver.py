"""The webhook documentation's Flask handler, completed: every delivery is verified with
verify_webhook (Standard Webhooks) before anything runs, retries are deduplicated on webhook-id,
test events are acknowledged without acting, and every event type gets its 200.

    PYTHONPATH=shared/client/python PROCESSA_WEBHOOK_SECRET=whsec_... PORT=5000 \
        python3 shared/client/python/examples/flask_receiver.py

Register http://localhost:5000/webhooks/processa as an endpoint (the dev runtime accepts
http://localhost; deployed, it must be https). During a secret rotation PROCESSA_WEBHOOK_SECRET
may hold both secrets, separated by a space or comma. Flask: `pip install flask`, or on
Debian/Ubuntu `apt-get install python3-flask`.
"""

import json
import os
import re
import threading

from flask import Flask, jsonify, request

from processa_client import WebhookVerificationError, verify_webhook_delivery

app = Flask(__name__)
SECRETS = [s for s in re.split(r"[\s,]+", os.environ["PROCESSA_WEBHOOK_SECRET"]) if s]

# Deliveries are at-least-once: remember the webhook-ids already handled. In production use your
# database (an insert that fails on a duplicate key), ideally in the same transaction as the action.
_handled: set[str] = set()
_lock = threading.Lock()


def claim(webhook_id: str) -> bool:
    with _lock:
        if webhook_id in _handled:
            return False
        _handled.add(webhook_id)
        return True


def release(webhook_id: str) -> None:
    with _lock:
        _handled.discard(webhook_id)


def execute_action(content):
    # Replace with the real action (send the email, issue the refund, ...).
    print(f"executing approved action: {json.dumps(content)}", flush=True)


@app.route('/webhooks/processa', methods=['POST'])
def handle_webhook():
    # Added: verify the raw body and the webhook-* headers before trusting anything in them.
    try:
        delivery = verify_webhook_delivery(request.get_data(), request.headers, SECRETS)
    except WebhookVerificationError as error:
        print(f"refused a delivery: {error.reason}", flush=True)
        return jsonify({'error': {'code': 'invalid_webhook', 'message': str(error), 'reason': error.reason}}), 400
    if not claim(delivery.id):
        return jsonify({'received': True, 'duplicate': True}), 200

    data = delivery.event  # the verified body (the documentation's `request.json`)
    event = data['event']
    draft = data['draft']
    try:
        if data.get('test'):
            # "Test Webhook" in the settings page: acknowledge, act on nothing.
            print(f"test {event} for draft {draft['id']}: acknowledged, nothing executed", flush=True)
        elif event == 'draft.approved':
            # Execute the approved action
            execute_action(draft['content'])
        elif event == 'draft.rejected':
            # Log rejection
            print(f"Draft {draft['id']} rejected: {draft.get('rejectionReason')}", flush=True)
    except Exception:
        release(delivery.id)  # not handled: let Processa's retry try again
        raise
    return jsonify({'received': True}), 200


if __name__ == '__main__':
    app.run(host=os.environ.get('HOST', '127.0.0.1'), port=int(os.environ.get('PORT', '5000')))
