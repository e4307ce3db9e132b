"""Processa client for Python: the HTTP API and webhook verification, standard library only.

    from processa_client import ProcessaClient, verify_webhook

See README.md beside this package for a quick start.
"""

from .approval import ApprovalOutcome, ApprovedArgumentsInvalidError, is_approval_outcome, require_approval
from .client import Actor, Draft, DraftPage, DraftStatus, HistoryEntry, ProcessaClient, RetryMode, __version__
from .errors import (
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
    ProcessaError,
    RateLimitError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from .webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    VerifiedWebhook,
    WebhookVerificationError,
    verify_webhook,
    verify_webhook_delivery,
)

__all__ = [
    "__version__",
    "ProcessaClient",
    "Draft",
    "DraftPage",
    "DraftStatus",
    "Actor",
    "HistoryEntry",
    "RetryMode",
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
    "require_approval",
    "ApprovalOutcome",
    "ApprovedArgumentsInvalidError",
    "is_approval_outcome",
    "verify_webhook",
    "verify_webhook_delivery",
    "VerifiedWebhook",
    "WebhookVerificationError",
    "DEFAULT_TOLERANCE_SECONDS",
]
