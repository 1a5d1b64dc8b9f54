"""Python client of the SMS service: `from sms_client import SMSService`."""
from .client import SMSService
from .errors import (
    AuthenticationError,
    ConflictError,
    IdempotencyMismatchError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    SMSConnectionError,
    SMSError,
    SpendCapError,
    UnsupportedMediaTypeError,
    ValidationError,
)
from .webhooks import SIGNATURE_HEADER, verify_webhook_signature

__all__ = [
    "SMSService",
    "SMSError",
    "SMSConnectionError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "IdempotencyMismatchError",
    "RateLimitError",
    "SpendCapError",
    "ServerError",
    "ServiceUnavailableError",
    "SIGNATURE_HEADER",
    "verify_webhook_signature",
]
