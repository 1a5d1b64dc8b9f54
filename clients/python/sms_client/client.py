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


def _query_value(v: Any) -> Any:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError("datetimes need a time zone (e.g. datetime.now(timezone.utc))")
        return v.isoformat()
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return v


def _iso(value: Union[datetime, str, None], name: str) -> Optional[str]:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc))")
        return value.isoformat()
    return value


def _clean(d: Mapping[str, Any]) -> Json:
    """Drops None values; user ids may be ints (the brief passes user_id=456)."""
    out: Json = {}
    for k, v in d.items():
        if v is None:
            continue
        out[k] = str(v) if k == "user_id" else v
    return out


def _channel(channel: Optional[str], media_urls: Optional[Sequence[str]], content_sid: Optional[str],
             content_variables: Optional[Mapping[str, str]], fallback_channel: Optional[str]) -> Json:
    """The channel fields of a send (docs/sending.md#channels); absent ones are left out."""
    return _clean(dict(channel=channel, media_urls=None if media_urls is None else list(media_urls),
                       content_sid=content_sid,
                       content_variables=None if content_variables is None else dict(content_variables),
                       fallback_channel=fallback_channel))


def _campaign_body(name: str, template_id: str, recipient_filters: Mapping[str, Any],
                   variables: Optional[Mapping[str, Any]], scheduled_for: Union[datetime, str, None],
                   send_at: Optional[str] = None, optimal_window_hours: Optional[int] = None) -> Json:
    return _clean(dict(name=name, template_id=template_id, recipient_filters=dict(recipient_filters),
                       variables=None if variables is None else dict(variables),
                       scheduled_for=_iso(scheduled_for, "scheduled_for"),
                       send_at=send_at, optimal_window_hours=optimal_window_hours))


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
        validity_seconds: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        *,
        channel: Optional[str] = None,
        media_urls: Optional[Sequence[str]] = None,
        content_sid: Optional[str] = None,
        content_variables: Optional[Mapping[str, str]] = None,
        fallback_channel: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send → {success, message_id, status, segments, encoding, estimated_cost, currency, channel}.

        Channels (docs/sending.md#channels): channel="whatsapp" (free text inside the recipient's 24-hour
        session window, else the approved template `content_sid` with `content_variables`; the answer's
        `whatsapp_mode` says which; fallback_channel="sms" sends it once as SMS when it fails or gets no
        receipt in time) or channel="mms" with `media_urls` (https, US/CA numbers).
        """
        body = _clean(dict(phone_number=phone_number, message=message, message_type=message_type,
                           language=language, user_id=user_id, metadata=metadata,
                           validity_seconds=validity_seconds,
                           **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)))
        return self._send("/api/sms/send", body, idempotency_key)

    def send_bulk(
        self,
        phone_numbers: Sequence[str],
        message: str,
        message_type: Optional[str] = None,
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        validity_seconds: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        *,
        channel: Optional[str] = None,
        media_urls: Optional[Sequence[str]] = None,
        content_sid: Optional[str] = None,
        content_variables: Optional[Mapping[str, str]] = None,
        fallback_channel: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send-bulk → {success, batch_id, accepted, rejected, message_ids, ...}."""
        body = _clean(dict(phone_numbers=list(phone_numbers), message=message, message_type=message_type,
                           language=language, user_id=user_id, metadata=metadata,
                           validity_seconds=validity_seconds,
                           **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)))
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
        validity_seconds: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        *,
        channel: Optional[str] = None,
        media_urls: Optional[Sequence[str]] = None,
        content_sid: Optional[str] = None,
        content_variables: Optional[Mapping[str, str]] = None,
        fallback_channel: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/schedule; `scheduled_time` needs a time zone (an aware datetime or ISO with offset)."""
        body = _clean(dict(phone_number=phone_number, message=message,
                           scheduled_time=_iso(scheduled_time, "scheduled_time"),
                           message_type=message_type, language=language, user_id=user_id, metadata=metadata,
                           validity_seconds=validity_seconds,
                           **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)))
        return self._send("/api/sms/schedule", body, idempotency_key)

    def send_templated(
        self,
        phone_number: str,
        template_id: str,
        variables: Mapping[str, str],
        language: Optional[str] = None,
        user_id: Optional[UserId] = None,
        metadata: Optional[Json] = None,
        validity_seconds: Optional[int] = None,
        idempotency_key: Optional[str] = None,
        *,
        channel: Optional[str] = None,
        media_urls: Optional[Sequence[str]] = None,
        content_sid: Optional[str] = None,
        content_variables: Optional[Mapping[str, str]] = None,
        fallback_channel: Optional[str] = None,
    ) -> Json:
        """POST /api/sms/send-templated → /send's answer plus template_id and language_used."""
        body = _clean(dict(phone_number=phone_number, template_id=template_id, variables=dict(variables),
                           language=language, user_id=user_id, metadata=metadata,
                           validity_seconds=validity_seconds,
                           **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)))
        return self._send("/api/sms/send-templated", body, idempotency_key)

    def channel_stats(self, start_date: Optional[str] = None, end_date: Optional[str] = None,
                      **filters: Any) -> Json:
        """GET /api/sms/stats/channels → {start_date, end_date, by_channel: [{channel, total, delivered, ...}], fallbacks}."""
        params = _clean(dict(start_date=start_date, end_date=end_date, **filters))
        return self._call("GET", "/api/sms/stats/channels", params=params)

    def get_status(self, message_id: str) -> Json:
        """GET /api/sms/messages/{id}/status."""
        return self._call("GET", f"/api/sms/messages/{_segment(message_id)}/status")

    def cancel(self, message_id: str) -> None:
        """DELETE /api/sms/messages/{id}: cancels a scheduled or queued message (409 once sent)."""
        self._call("DELETE", f"/api/sms/messages/{_segment(message_id)}")

    def history(self, **filters: Any) -> Json:
        """GET /api/sms/history (user_id, status, message_type, phone_number, from, to, batch_id, campaign_id, limit, cursor)."""
        return self._get_page("/api/sms/history", filters)

    def validate_phone(self, phone_number: str, country_code: Optional[str] = None) -> Json:
        """POST /api/sms/validate-phone → {valid, e164, national_format, ...} or {valid: false, reason}."""
        return self._call("POST", "/api/sms/validate-phone",
                             json=_clean(dict(phone_number=phone_number, country_code=country_code)))

    def me(self) -> Json:
        """GET /api/sms/me → {user_id, tenant_id, roles}."""
        return self._call("GET", "/api/sms/me")

    # ------------------------------------------------------------------ templates
    def list_templates(self, message_type: Optional[str] = None, include_inactive: Optional[bool] = None) -> List[Json]:
        params = _clean(dict(message_type=message_type,
                             include_inactive=None if include_inactive is None else str(include_inactive).lower()))
        return self._call("GET", "/api/sms/templates", params=params)

    def get_template(self, template_id: str) -> Json:
        return self._call("GET", f"/api/sms/templates/{_segment(template_id)}")

    def create_template(self, template_id: str, name: str, content_en: str, message_type: str,
                        variables: Sequence[str], content_tr: Optional[str] = None,
                        variants: Optional[Sequence[Mapping[str, Any]]] = None, *,
                        channel: Optional[str] = None, content_sid: Optional[str] = None) -> Json:
        """POST /api/sms/templates. `variants`: an A/B test, e.g. [{"key": "A", "weight": 50, "content_en": ...},
        {"key": "B", ...}]; `channel` (sms, whatsapp, mms) is its sends' default, `content_sid` its approved
        WhatsApp template."""
        body = _clean(dict(template_id=template_id, name=name, content_en=content_en, content_tr=content_tr,
                           message_type=message_type, variables=list(variables), channel=channel,
                           content_sid=content_sid,
                           variants=None if variants is None else [dict(v) for v in variants]))
        return self._call("POST", "/api/sms/templates", json=body)

    def replace_template(self, template_id: str, **fields: Any) -> Json:
        return self._call("PUT", f"/api/sms/templates/{_segment(template_id)}", json=_clean(fields))

    def update_template(self, template_id: str, **fields: Any) -> Json:
        return self._call("PATCH", f"/api/sms/templates/{_segment(template_id)}", json=_clean(fields))

    def delete_template(self, template_id: str) -> None:
        self._call("DELETE", f"/api/sms/templates/{_segment(template_id)}")

    def preview_template(self, template_id: str, variables: Mapping[str, str], language: Optional[str] = None,
                         variant: Optional[str] = None) -> Json:
        """`variant`: a running A/B variant's key, to preview its text instead of the template's."""
        return self._call("POST", f"/api/sms/templates/{_segment(template_id)}/preview",
                             json=_clean(dict(variables=dict(variables), language=language, variant=variant)))

    # ------------------------------------------------------------------ A/B variants
    def set_template_variants(self, template_id: str, variants: Sequence[Mapping[str, Any]]) -> Json:
        """PATCH `variants`: starts an A/B test (or a new one, when keys or weights change)."""
        return self._call("PATCH", f"/api/sms/templates/{_segment(template_id)}",
                          json={"variants": [dict(v) for v in variants]})

    def end_variant_test(self, template_id: str) -> Json:
        """PATCH `variants: null`: ends the A/B test without a winner (the template's own texts stay)."""
        return self._call("PATCH", f"/api/sms/templates/{_segment(template_id)}", json={"variants": None})

    def variant_stats(self, template_id: str) -> Json:
        """GET /api/sms/templates/{id}/variants → per variant: messages, delivered, clicked, converted, cost; winner."""
        return self._call("GET", f"/api/sms/templates/{_segment(template_id)}/variants")

    def promote_variant(self, template_id: str, key: str) -> Json:
        """POST …/variants/{key}/promote → the template, with that variant's texts; the test ends."""
        return self._call("POST", f"/api/sms/templates/{_segment(template_id)}/variants/{_segment(key)}/promote")

    # ------------------------------------------------------------------ verification codes
    def send_verification_code(self, phone_number: str, purpose: str, user_id: Optional[UserId] = None,
                               language: Optional[str] = None, code: Optional[str] = None,
                               idempotency_key: Optional[str] = None, validity_seconds: Optional[int] = None, *,
                               channel: Optional[str] = None, content_sid: Optional[str] = None) -> Json:
        """POST /api/sms/verification/send (purpose: password_reset or 2fa) → /send's answer + expires_at.

        channel="whatsapp" with content_sid (an approved WhatsApp authentication template, the code as its
        variable 1) sends the code by WhatsApp; free text inside the recipient's session window.
        """
        body = _clean(dict(phone_number=phone_number, purpose=purpose, user_id=user_id, language=language, code=code,
                           validity_seconds=validity_seconds, channel=channel, content_sid=content_sid))
        return self._send("/api/sms/verification/send", body, idempotency_key)

    def check_verification_code(self, phone_number: str, purpose: str, code: str) -> bool:
        """POST /api/sms/verification/check → True once for the right, unexpired code."""
        res = self._call("POST", "/api/sms/verification/check",
                            json=dict(phone_number=phone_number, purpose=purpose, code=code))
        return bool(res.get("valid"))

    # ------------------------------------------------------------------ appointments
    def upsert_appointment(self, appointment_id: Union[str, int], phone_number: str,
                           starts_at: Union[datetime, str], trainer_name: str, location: str,
                           user_id: Optional[UserId] = None, language: Optional[str] = None,
                           timezone: Optional[str] = None) -> Json:
        """PUT /api/sms/appointments/{id}; `starts_at` needs a time zone."""
        body = _clean(dict(phone_number=phone_number, starts_at=_iso(starts_at, "starts_at"), trainer_name=trainer_name,
                           location=location, user_id=user_id, language=language, timezone=timezone))
        return self._call("PUT", f"/api/sms/appointments/{_segment(appointment_id)}", json=body)

    def get_appointment(self, appointment_id: Union[str, int]) -> Json:
        return self._call("GET", f"/api/sms/appointments/{_segment(appointment_id)}")

    def delete_appointment(self, appointment_id: Union[str, int]) -> None:
        self._call("DELETE", f"/api/sms/appointments/{_segment(appointment_id)}")

    def remind_appointment(self, appointment_id: Union[str, int], phone_number: Optional[str] = None,
                           user_id: Optional[UserId] = None, language: Optional[str] = None,
                           validity_seconds: Optional[int] = None, *, channel: Optional[str] = None,
                           media_urls: Optional[Sequence[str]] = None, content_sid: Optional[str] = None,
                           content_variables: Optional[Mapping[str, str]] = None,
                           fallback_channel: Optional[str] = None) -> Json:
        """POST /api/sms/appointments/{id}/remind → {success, message_id}; one reminder per start.

        The channel keywords (as on send) are this reminder's own; without them, the appointment_reminder
        template's channel applies.
        """
        body = _clean(dict(phone_number=phone_number, user_id=user_id, language=language,
                           validity_seconds=validity_seconds,
                           **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)))
        return self._send(f"/api/sms/appointments/{_segment(appointment_id)}/remind", body, None)

    # ------------------------------------------------------------------ opt-outs (admins)
    def list_opt_outs(self) -> List[Json]:
        return self._call("GET", "/api/sms/opt-outs")

    def add_opt_out(self, phone_number: str, reason: Optional[str] = None) -> None:
        self._call("POST", "/api/sms/opt-outs", json=_clean(dict(phone_number=phone_number, reason=reason)))

    def remove_opt_out(self, phone_number: str) -> None:
        self._call("DELETE", f"/api/sms/opt-outs/{_segment(phone_number)}")

    # ------------------------------------------------------------------ campaigns (admins)
    def create_campaign(self, name: str, template_id: str, recipient_filters: Mapping[str, Any],
                        variables: Optional[Mapping[str, Any]] = None,
                        scheduled_for: Union[datetime, str, None] = None,
                        send_at: Optional[str] = None, optimal_window_hours: Optional[int] = None, *,
                        channel: Optional[str] = None, media_urls: Optional[Sequence[str]] = None,
                        content_sid: Optional[str] = None, content_variables: Optional[Mapping[str, str]] = None,
                        fallback_channel: Optional[str] = None) -> Json:
        """POST /api/sms/campaigns → the campaign (`draft`, or `scheduled` with `scheduled_for`).

        `send_at="optimal"`: each recipient's message at their best local hour within
        `optimal_window_hours` (default 24) of the start; channel fields as send()."""
        return self._call("POST", "/api/sms/campaigns",
                          json={**_campaign_body(name, template_id, recipient_filters, variables, scheduled_for,
                                                 send_at, optimal_window_hours),
                                **_channel(channel, media_urls, content_sid, content_variables, fallback_channel)})

    def preview_campaign(self, name: str, template_id: str, recipient_filters: Mapping[str, Any],
                         variables: Optional[Mapping[str, Any]] = None,
                         scheduled_for: Union[datetime, str, None] = None,
                         send_at: Optional[str] = None, optimal_window_hours: Optional[int] = None) -> Json:
        """POST /api/sms/campaigns/preview → {total_recipients, will_send, skipped, estimated_cost, sample, ...}; stores nothing."""
        return self._call("POST", "/api/sms/campaigns/preview",
                          json=_campaign_body(name, template_id, recipient_filters, variables, scheduled_for,
                                              send_at, optimal_window_hours))

    def list_campaigns(self, limit: Optional[int] = None, cursor: Optional[str] = None) -> Json:
        """GET /api/sms/campaigns → {items, next_cursor}, newest first."""
        return self._get_page("/api/sms/campaigns", dict(limit=limit, cursor=cursor))

    def get_campaign(self, campaign_id: str) -> Json:
        """GET /api/sms/campaigns/{id}."""
        return self._call("GET", f"/api/sms/campaigns/{_segment(campaign_id)}")

    def execute_campaign(self, campaign_id: str) -> Json:
        """POST /api/sms/campaigns/{id}/execute → 202, the campaign (`running`)."""
        return self._call("POST", f"/api/sms/campaigns/{_segment(campaign_id)}/execute")

    def cancel_campaign(self, campaign_id: str) -> Json:
        """POST /api/sms/campaigns/{id}/cancel → the campaign (`canceled`); what was not sent is canceled."""
        return self._call("POST", f"/api/sms/campaigns/{_segment(campaign_id)}/cancel")

    def campaign_status(self, campaign_id: str) -> Json:
        """GET /api/sms/campaigns/{id}/status → counts per state, skipped, costs, progress."""
        return self._call("GET", f"/api/sms/campaigns/{_segment(campaign_id)}/status")

    # ------------------------------------------------------------------ recipients (admins)
    def put_recipients(self, recipients: Sequence[Mapping[str, Any]]) -> Json:
        """PUT /api/sms/recipients → {upserted, rejected: [{user_id, reason}]}; rows are checked one by one."""
        rows = [_clean(r) for r in recipients]
        return self._call("PUT", "/api/sms/recipients", json={"recipients": rows})

    def list_recipients(self, role: Optional[str] = None, language: Optional[str] = None,
                        tag: Optional[str] = None, limit: Optional[int] = None,
                        cursor: Optional[str] = None) -> Json:
        """GET /api/sms/recipients → {items, next_cursor}."""
        return self._get_page("/api/sms/recipients",
                              dict(role=role, language=language, tag=tag, limit=limit, cursor=cursor))

    def get_recipient(self, user_id: UserId) -> Json:
        """GET /api/sms/recipients/{user_id}."""
        return self._call("GET", f"/api/sms/recipients/{_segment(user_id)}")

    def delete_recipient(self, user_id: UserId) -> None:
        """DELETE /api/sms/recipients/{user_id}."""
        self._call("DELETE", f"/api/sms/recipients/{_segment(user_id)}")

    # ------------------------------------------------------------------ analytics
    def stats(self, start_date: Optional[str] = None, end_date: Optional[str] = None,
              group_by: Optional[str] = None, message_type: Optional[str] = None,
              provider: Optional[str] = None, campaign_id: Optional[str] = None,
              tenant_id: Optional[int] = None) -> Json:
        """GET /api/sms/stats (dates YYYY-MM-DD, UTC) → {period, totals, groups, ...}."""
        return self._get_page("/api/sms/stats", dict(
            start_date=start_date, end_date=end_date, group_by=group_by, message_type=message_type,
            provider=provider, campaign_id=campaign_id, tenant_id=tenant_id))

    def cost_report(self, month: str, tenant_id: Optional[int] = None) -> Json:
        """GET /api/sms/reports/costs?month=YYYY-MM (admins) → the month's rows per provider and type."""
        return self._get_page("/api/sms/reports/costs", dict(month=month, tenant_id=tenant_id, format="json"))

    def cost_report_csv(self, month: str, tenant_id: Optional[int] = None) -> str:
        """The same report as CSV text (format=csv)."""
        return self._get_page("/api/sms/reports/costs", dict(month=month, tenant_id=tenant_id, format="csv"))

    def link_stats(self, start_date: Optional[str] = None, end_date: Optional[str] = None,
                   group_by: Optional[str] = None, campaign_id: Optional[str] = None) -> Json:
        """GET /api/sms/links/stats (admins; dates YYYY-MM-DD, UTC days of acceptance) → tracked links:
        {start_date, end_date, group_by, totals, rows}; each row counts `messages` with tracked links,
        `clicked` (a message once), `click_rate` and every `hits`, per campaign (default), template or
        variant (group_by)."""
        return self._get_page("/api/sms/links/stats", dict(
            start_date=start_date, end_date=end_date, group_by=group_by, campaign_id=campaign_id))

    # ------------------------------------------------------------------ tenants (super_admin)
    def update_tenant_settings(self, tenant_id: int, **settings: Any) -> Json:
        """PATCH /api/sms/tenants/{id} with {"settings": ...} (super_admin): the given settings change, the
        others stay, e.g. ``update_tenant_settings(7, link_tracking=True)`` turns tracked links on
        (docs/sending.md, Tracked links). Returns the tenant with all its settings."""
        return self._call("PATCH", f"/api/sms/tenants/{int(tenant_id)}", json={"settings": settings})

    # ------------------------------------------------------------------ alerts, inbound (admins)
    def list_alerts(self, kind: Optional[str] = None, tenant_id: Optional[int] = None,
                    limit: Optional[int] = None, cursor: Optional[str] = None) -> Json:
        """GET /api/sms/alerts → {items, next_cursor}, newest first. Each alert's `deliveries`
        counts its `alert.raised` webhook deliveries (pending, delivered, failed): alerts reach
        webhook endpoints subscribed to `alert.raised` (create_webhook_endpoint)."""
        return self._get_page("/api/sms/alerts", dict(kind=kind, tenant_id=tenant_id, limit=limit, cursor=cursor))

    def list_inbound(self, from_: Optional[str] = None, keyword: Optional[str] = None,
                     since: Union[datetime, str, None] = None, until: Union[datetime, str, None] = None,
                     limit: Optional[int] = None, cursor: Optional[str] = None) -> Json:
        """GET /api/sms/inbound → {items, next_cursor}: texts received (`from_` is the sender)."""
        return self._get_page("/api/sms/inbound", dict(from_=from_, keyword=keyword, since=since, until=until,
                                                       limit=limit, cursor=cursor))

    # ------------------------------------------------------------------ outbound webhooks (admins)
    def create_webhook_endpoint(self, url: str, description: Optional[str] = None,
                                events: Optional[Sequence[str]] = None, active: Optional[bool] = None) -> Json:
        """POST /api/sms/webhook-endpoints → the endpoint and its `secret` (shown only here and on rotate)."""
        body = _clean(dict(url=url, description=description,
                           events=None if events is None else list(events), active=active))
        return self._call("POST", "/api/sms/webhook-endpoints", json=body)

    def list_webhook_endpoints(self) -> List[Json]:
        """GET /api/sms/webhook-endpoints (no secrets)."""
        return self._call("GET", "/api/sms/webhook-endpoints")

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        """DELETE /api/sms/webhook-endpoints/{id}."""
        self._call("DELETE", f"/api/sms/webhook-endpoints/{_segment(endpoint_id)}")

    def rotate_webhook_secret(self, endpoint_id: str) -> Json:
        """POST /api/sms/webhook-endpoints/{id}/rotate-secret → the endpoint with its new `secret`."""
        return self._call("POST", f"/api/sms/webhook-endpoints/{_segment(endpoint_id)}/rotate-secret")

    def list_webhook_deliveries(self, status: Optional[str] = None, event_type: Optional[str] = None,
                                message_id: Optional[str] = None, endpoint_id: Optional[str] = None,
                                from_: Union[datetime, str, None] = None, to: Union[datetime, str, None] = None,
                                limit: Optional[int] = None, cursor: Optional[str] = None) -> Json:
        """GET /api/sms/webhook-deliveries → {items, next_cursor}."""
        return self._get_page("/api/sms/webhook-deliveries", dict(
            status=status, event_type=event_type, message_id=message_id, endpoint_id=endpoint_id,
            from_=from_, to=to, limit=limit, cursor=cursor))

    def get_webhook_delivery(self, delivery_id: str) -> Json:
        """GET /api/sms/webhook-deliveries/{id} → the delivery with its attempt_log."""
        return self._call("GET", f"/api/sms/webhook-deliveries/{_segment(delivery_id)}")

    def replay_webhook_delivery(self, delivery_id: str) -> Json:
        """POST /api/sms/webhook-deliveries/{id}/replay → 202, the delivery queued again."""
        return self._call("POST", f"/api/sms/webhook-deliveries/{_segment(delivery_id)}/replay")

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
        return self._call("POST", path, json=body, headers={"Idempotency-Key": key}, retry_conflict=True)

    def _get_page(self, path: str, filters: Mapping[str, Any]) -> Any:
        """A GET with query filters; `from_` stands for `from` (a Python keyword), datetimes become ISO."""
        params = {k.rstrip("_"): _query_value(v) for k, v in _clean(filters).items()}
        return self._call("GET", path, params=params)

    def _call(
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
            if "json" not in res.headers.get("Content-Type", "application/json"):
                return res.text  # the CSV cost report
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
