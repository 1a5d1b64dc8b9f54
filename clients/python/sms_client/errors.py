"""Typed errors: every non-2xx answer of the service raises one, carrying its error body."""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class SMSError(Exception):
    """Base class. `status_code` is 0 for a connection problem (nothing was answered)."""

    def __init__(
        self,
        message: str,
        status_code: int = 0,
        error: str = "",
        details: Any = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        body: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(f"{status_code} {error}: {message}" if status_code else message)
        self.message = message
        self.status_code = status_code
        self.error = error
        self.details = details
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body or {}


class SMSConnectionError(SMSError):
    """The service could not be reached (or did not answer in time), after the retries."""


class ValidationError(SMSError):
    """400: invalid input; `details` names the field. Nothing changed."""


class AuthenticationError(SMSError):
    """401: missing, malformed or expired token."""


class PermissionDeniedError(SMSError):
    """403: a role is missing or the tenant is deactivated (or a webhook signature is wrong)."""


class NotFoundError(SMSError):
    """404: unknown, or another tenant's / user's."""


class ConflictError(SMSError):
    """409: the same Idempotency-Key is in flight, or the state forbids the change."""


class SpendCapError(SMSError):
    """402: the tenant's monthly spend cap would be passed; nothing was stored.

    Waiting does not help: raising the cap (or the next month) does. `details[0]` holds `cap`,
    `month_to_date`, `estimated_cost` and `currency`.
    """


class PayloadTooLargeError(SMSError):
    """413: the body is larger than the service accepts."""


class UnsupportedMediaTypeError(SMSError):
    """415: the body's encoding or charset is not accepted."""


class IdempotencyMismatchError(SMSError):
    """422: the Idempotency-Key was used before with another body."""


class RateLimitError(SMSError):
    """429: a rate limit; wait `retry_after` seconds."""


class ServerError(SMSError):
    """500: an unexpected error; quote `body['errorId']` to operators."""


class ServiceUnavailableError(ServerError):
    """503: PostgreSQL or Redis is unreachable; nothing was stored. Safe to retry after `retry_after`."""


_BY_STATUS: Dict[int, Type[SMSError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: SpendCapError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: IdempotencyMismatchError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_for(status: int) -> Type[SMSError]:
    return _BY_STATUS.get(status, ServerError if status >= 500 else SMSError)
