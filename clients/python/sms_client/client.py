"""`SMSService`: the brief's Python SDK calls, over HTTP, plus one method per REST operation."""
from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote

import httpx

from .errors import SMSConnectionError, SMSError, error_for

Json = Dict[str, Any]
UserId = Union[str, int]

# Statuses after which sending the same request again is safe: nothing was stored (503), or the
# same Idempotency-Key is still in progress (409 with Retry-After: the retry gets the replay).
_RETRY_STATUSES = (503,)


def _segment(value: Union[str, int]) -> str:
    return quote(str(value), safe="")


def _clean(d: Mapping[str, Any]) -> Json:
    """Drops None values; user ids may be ints (the brief passes user_id=456)."""
    out: Json = {}
    for k, v in d.items():
        if v is None:
            continue
        out[k] = str(v) if k == "user_id" else v
    return out


class SMSService:
    """
    A client of the SMS service. `token` is a platform-signed JWT (Bearer). Every send carries an
    Idempotency-Key (a new UUID per call unless you pass one), so the automatic retries after a
    503 or a connection error can never send twice. `tenant_id` (super_admin only) acts for
    another tenant via X-Tenant-Id.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 10.0,
        *,
        retries: int = 2,
        max_retry_wait: float = 10.0,
        tenant_id: Optional[int] = None,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if tenant_id is not None:
            headers["X-Tenant-Id"] = str(tenant_id)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.retries = retries
        self.max_retry_wait = max_retry_wait
        #: The error of the last brief-style call that answered (False, None), for logging.
        self.last_error: Optional[SMSError] = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SMSService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the brief's methods
    def send_appointment_reminder(
        self,
        appointment_id: Union[str, int],
        phone_number: Optional[str] = None,
        user_id: Optional[UserId] = None,
        language: Optional[str] = None,
    ) -> Tuple[bool, Optional[str]]:
        """The stored appointment's reminder (PUT it first with `upsert_appointment`); one per start."""
        return self._outcome(
            lambda: self.remind_appointment(appointment_id, phone_number, user_id, language)
        )

    def send_password_reset_code(
        self,
        phone_number: str,
        reset_code: str,
        user_id: Optional[UserId] = None,
        language: Optional[str] = None,
    ) -> Tuple[bool, Optional[str]]:
        """Sends your reset code; `check_verification_code(..., "password_reset", code)` checks it."""
        return self._outcome(
            lambda: self.send_verification_code(
                phone_number, "password_reset", user_id=user_id, language=language, code=reset_code
            )
        )

    def send_2fa_code(
        self,
        phone_number: str,
        auth_code: str,
        user_id: Optional[UserId] = None,
        language: Optional[str] = None,
    ) -> Tuple[bool, Optional[str]]:
        """Sends your 2FA code; `check_verification_code(..., "2fa", code)` checks it."""
        return self._outcome(
            lambda: self.send_verification_code(
                phone_number, "2fa", user_id=user_id, language=language, code=auth_code
            )
        )

    def validate_phone_number(
        self, phone_number: str, country_code: Optional[str] = None
    ) -> Tuple[bool, Optional[str]]:
        """(is_valid, the number in E.164 or None). Raises SMSError only when the service fails."""
        result = self.validate_phone(phone_number, country_code)
        return bool(result.get("valid")), result.get("e164")

    # ------------------------------------------------------------------ messages
    def send(
        self,
        phone_number: str,
        message: str,
        message_type: Optional[str] = None,
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        idempotency_key: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send → {success, message_id, status, segments, encoding, estimated_cost, currency}."""
        body = _clean(dict(phone_number=phone_number, message=message, message_type=message_type,
                           language=language, user_id=user_id, metadata=metadata))
        return self._send("/api/sms/send", body, idempotency_key)

    def send_bulk(
        self,
        phone_numbers: Sequence[str],
        message: str,
        message_type: Optional[str] = None,
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        idempotency_key: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send-bulk → {success, batch_id, accepted, rejected, message_ids, ...}."""
        body = _clean(dict(phone_numbers=list(phone_numbers), message=message, message_type=message_type,
                           language=language, user_id=user_id, metadata=metadata))
        return self._send("/api/sms/send-bulk", body, idempotency_key)

    def schedule(
        self,
        phone_number: str,
        message: str,
        scheduled_time: Union[datetime, str],
        message_type: Optional[str] = None,
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        idempotency_key: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/schedule; `scheduled_time` needs a time zone (an aware datetime or ISO with offset)."""
        if isinstance(scheduled_time, datetime):
            if scheduled_time.tzinfo is None:
                raise ValueError("scheduled_time must be timezone-aware (e.g. datetime.now(timezone.utc))")
            scheduled_time = scheduled_time.isoformat()
        body = _clean(dict(phone_number=phone_number, message=message, scheduled_time=scheduled_time,
                           message_type=message_type, language=language, user_id=user_id, metadata=metadata))
        return self._send("/api/sms/schedule", body, idempotency_key)

    def send_templated(
        self,
        phone_number: str,
        template_id: str,
        variables: Mapping[str, str],
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        idempotency_key: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send-templated → /send's answer plus template_id and language_used."""
        body = _clean(dict(phone_number=phone_number, template_id=template_id, variables=dict(variables),
                           language=language, user_id=user_id, metadata=metadata))
        return self._send("/api/sms/send-templated", body, idempotency_key)

    def get_status(self, message_id: str) -> Json:
        """GET /api/sms/messages/{id}/status."""
        return self._request("GET", f"/api/sms/messages/{_segment(message_id)}/status")

    def cancel(self, message_id: str) -> None:
        """DELETE /api/sms/messages/{id}: cancels a scheduled or queued message (409 once sent)."""
        self._request("DELETE", f"/api/sms/messages/{_segment(message_id)}")

    def history(self, **filters: Any) -> Json:
        """GET /api/sms/history (user_id, status, message_type, phone_number, from, to, batch_id, campaign_id, limit, cursor)."""
        params = {k.rstrip("_"): v for k, v in _clean(filters).items()}  # from_=... for `from`
        return self._request("GET", "/api/sms/history", params=params)

    def validate_phone(self, phone_number: str, country_code: Optional[str] = None) -> Json:
        """POST /api/sms/validate-phone → {valid, e164, national_format, ...} or {valid: false, reason}."""
        return self._request("POST", "/api/sms/validate-phone",
                             json=_clean(dict(phone_number=phone_number, country_code=country_code)))

    def me(self) -> Json:
        """GET /api/sms/me → {user_id, tenant_id, roles}."""
        return self._request("GET", "/api/sms/me")

    # ------------------------------------------------------------------ templates
    def list_templates(self, message_type: Optional[str] = None, include_inactive: Optional[bool] = None) -> List[Json]:
        params = _clean(dict(message_type=message_type,
                             include_inactive=None if include_inactive is None else str(include_inactive).lower()))
        return self._request("GET", "/api/sms/templates", params=params)

    def get_template(self, template_id: str) -> Json:
        return self._request("GET", f"/api/sms/templates/{_segment(template_id)}")

    def create_template(self, template_id: str, name: str, content_en: str, message_type: str,
                        variables: Sequence[str], content_tr: Optional[str] = None) -> Json:
        body = _clean(dict(template_id=template_id, name=name, content_en=content_en, content_tr=content_tr,
                           message_type=message_type, variables=list(variables)))
        return self._request("POST", "/api/sms/templates", json=body)

    def replace_template(self, template_id: str, **fields: Any) -> Json:
        return self._request("PUT", f"/api/sms/templates/{_segment(template_id)}", json=_clean(fields))

    def update_template(self, template_id: str, **fields: Any) -> Json:
        return self._request("PATCH", f"/api/sms/templates/{_segment(template_id)}", json=_clean(fields))

    def delete_template(self, template_id: str) -> None:
        self._request("DELETE", f"/api/sms/templates/{_segment(template_id)}")

    def preview_template(self, template_id: str, variables: Mapping[str, str], language: Optional[str] = None) -> Json:
        return self._request("POST", f"/api/sms/templates/{_segment(template_id)}/preview",
                             json=_clean(dict(variables=dict(variables), language=language)))

    # ------------------------------------------------------------------ verification codes
    def send_verification_code(self, phone_number: str, purpose: str, user_id: Optional[UserId] = None,
                               language: Optional[str] = None, code: Optional[str] = None,
                               idempotency_key: Optional[str] = None) -> Json:
        """POST /api/sms/verification/send (purpose: password_reset or 2fa) → /send's answer + expires_at."""
        body = _clean(dict(phone_number=phone_number, purpose=purpose, user_id=user_id, language=language, code=code))
        return self._send("/api/sms/verification/send", body, idempotency_key)

    def check_verification_code(self, phone_number: str, purpose: str, code: str) -> bool:
        """POST /api/sms/verification/check → True once for the right, unexpired code."""
        res = self._request("POST", "/api/sms/verification/check",
                            json=dict(phone_number=phone_number, purpose=purpose, code=code))
        return bool(res.get("valid"))

    # ------------------------------------------------------------------ appointments
    def upsert_appointment(self, appointment_id: Union[str, int], phone_number: str,
                           starts_at: Union[datetime, str], trainer_name: str, location: str,
                           user_id: Optional[UserId] = None, language: Optional[str] = None,
                           timezone: Optional[str] = None) -> Json:
        """PUT /api/sms/appointments/{id}; `starts_at` needs a time zone."""
        if isinstance(starts_at, datetime):
            if starts_at.tzinfo is None:
                raise ValueError("starts_at must be timezone-aware")
            starts_at = starts_at.isoformat()
        body = _clean(dict(phone_number=phone_number, starts_at=starts_at, trainer_name=trainer_name,
                           location=location, user_id=user_id, language=language, timezone=timezone))
        return self._request("PUT", f"/api/sms/appointments/{_segment(appointment_id)}", json=body)

    def get_appointment(self, appointment_id: Union[str, int]) -> Json:
        return self._request("GET", f"/api/sms/appointments/{_segment(appointment_id)}")

    def delete_appointment(self, appointment_id: Union[str, int]) -> None:
        self._request("DELETE", f"/api/sms/appointments/{_segment(appointment_id)}")

    def remind_appointment(self, appointment_id: Union[str, int], phone_number: Optional[str] = None,
                           user_id: Optional[UserId] = None, language: Optional[str] = None) -> Json:
        """POST /api/sms/appointments/{id}/remind → {success, message_id}; one reminder per start."""
        body = _clean(dict(phone_number=phone_number, user_id=user_id, language=language))
        return self._send(f"/api/sms/appointments/{_segment(appointment_id)}/remind", body, None)

    # ------------------------------------------------------------------ opt-outs (admins)
    def list_opt_outs(self) -> List[Json]:
        return self._request("GET", "/api/sms/opt-outs")

    def add_opt_out(self, phone_number: str, reason: Optional[str] = None) -> None:
        self._request("POST", "/api/sms/opt-outs", json=_clean(dict(phone_number=phone_number, reason=reason)))

    def remove_opt_out(self, phone_number: str) -> None:
        self._request("DELETE", f"/api/sms/opt-outs/{_segment(phone_number)}")

    # ------------------------------------------------------------------ plumbing
    def _outcome(self, call: Any) -> Tuple[bool, Optional[str]]:
        try:
            result = call()
        except SMSError as e:
            self.last_error = e
            return False, None
        self.last_error = None
        return bool(result.get("success")), result.get("message_id")

    def _send(self, path: str, body: Json, idempotency_key: Optional[str]) -> Json:
        key = idempotency_key or str(uuid.uuid4())
        return self._request("POST", path, json=body, headers={"Idempotency-Key": key}, retry_conflict=True)

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        retry_conflict: bool = False,
    ) -> Any:
        # Only requests that are safe to repeat are retried: reads, deletes, and sends (which
        # carry an Idempotency-Key, so a repeat answers the first result and sends nothing).
        safe = method in ("GET", "DELETE", "PUT") or (headers is not None and "Idempotency-Key" in headers)
        attempt = 0
        while True:
            try:
                res = self._http.request(method, path, json=json, params=params, headers=headers)
            except httpx.TransportError as e:
                if safe and attempt < self.retries:
                    attempt += 1
                    time.sleep(min(0.2 * 2 ** attempt, self.max_retry_wait))
                    continue
                raise SMSConnectionError(f"{method} {path}: {e}") from e
            retryable = res.status_code in _RETRY_STATUSES or (retry_conflict and res.status_code == 409)
            if retryable and safe and attempt < self.retries:
                attempt += 1
                time.sleep(min(self._retry_after(res) or 0.2 * 2 ** attempt, self.max_retry_wait))
                continue
            if res.status_code >= 400:
                raise self._error(res)
            if res.status_code == 204 or not res.content:
                return None
            return res.json()

    @staticmethod
    def _retry_after(res: httpx.Response) -> Optional[float]:
        value = res.headers.get("Retry-After")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    def _error(self, res: httpx.Response) -> SMSError:
        try:
            body = res.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return error_for(res.status_code)(
            str(body.get("message") or res.reason_phrase),
            status_code=res.status_code,
            error=str(body.get("error") or res.reason_phrase),
            details=body.get("details"),
            request_id=res.headers.get("X-Request-Id"),
            retry_after=self._retry_after(res),
            body=body,
        )
