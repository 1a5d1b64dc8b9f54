"""Campaigns, recipients, analytics, alerts, inbound and outbound webhooks against the real service."""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar

import pytest

from sms_client import (
    NotFoundError,
    PermissionDeniedError,
    SMSService,
    ValidationError,
    verify_webhook_signature,
)

T = TypeVar("T")

CAMPAIGN_VARIABLES = {"date": "March 15", "time": "2 PM", "trainer_name": "John Doe", "location": "Room A"}


def eventually(probe: Callable[[], Optional[T]], what: str, timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_campaign_happy_path(admin: SMSService) -> None:
    put = admin.put_recipients([
        {"user_id": "py-r1", "phone_number": "+12025550101", "roles": ["beneficiary"], "attributes": {"name": "Ann"}},
        {"user_id": "py-r2", "phone_number": "+12025550102", "roles": ["beneficiary"], "language": "tr"},
        {"user_id": "py-r3", "phone_number": "123", "roles": ["beneficiary"]},
    ])
    assert put["upserted"] == 2
    assert put["rejected"] == [{"user_id": "py-r3", "reason": "invalid_phone"}]
    assert admin.get_recipient("py-r2")["language"] == "tr"
    listed = admin.list_recipients(role="beneficiary", limit=10)
    assert [r["user_id"] for r in listed["items"]] == ["py-r1", "py-r2"]

    filters = {"roles": ["beneficiary"]}
    preview = admin.preview_campaign("Python campaign", "appointment_reminder", filters, CAMPAIGN_VARIABLES)
    assert preview["total_recipients"] == 2 and preview["will_send"] == 2
    assert preview["by_language"] == {"en": 1, "tr": 1}

    campaign = admin.create_campaign("Python campaign", "appointment_reminder", filters, CAMPAIGN_VARIABLES)
    assert campaign["status"] == "draft" and campaign["estimated_recipients"] == 2
    cid = campaign["campaign_id"]
    assert admin.get_campaign(cid)["name"] == "Python campaign"
    assert cid in [c["campaign_id"] for c in admin.list_campaigns(limit=50)["items"]]

    started = admin.execute_campaign(cid)
    assert started["status"] in ("running", "completed")
    def counted() -> Optional[Dict[str, Any]]:
        s = admin.campaign_status(cid)
        return s if s["total_recipients"] == 2 else None

    status = eventually(counted, "the campaign's recipients to be counted")
    assert status["campaign_id"] == cid and status["currency"]

    # A second campaign, canceled before it runs.
    other = admin.create_campaign("Canceled", "appointment_reminder", filters, CAMPAIGN_VARIABLES)
    assert admin.cancel_campaign(other["campaign_id"])["status"] == "canceled"

    with pytest.raises(ValidationError) as err:
        admin.create_campaign("Bad", "Not A Slug", filters)
    assert err.value.details[0]["field"] == "template_id"

    admin.delete_recipient("py-r2")
    with pytest.raises(NotFoundError):
        admin.get_recipient("py-r2")


def test_ab_variants_and_an_optimal_campaign(admin: SMSService) -> None:
    variants = [
        {"key": "A", "weight": 1, "content_en": "Hi {{name}}, welcome."},
        {"key": "B", "weight": 1, "content_en": "{{name}}, welcome aboard!"},
    ]
    tpl = admin.create_template("py_ab", "Python A/B", "Hi {{name}}, welcome.", "py_ab", ["name"], variants=variants)
    assert [v["key"] for v in tpl["variants"]] == ["A", "B"] and tpl["variant_test_id"]
    first = admin.send_templated("+12025550131", "py_ab", {"name": "Ann"})
    again = admin.send_templated("+12025550131", "py_ab", {"name": "Ann"})
    assert first["variant"] in ("A", "B") and again["variant"] == first["variant"]
    assert admin.preview_template("py_ab", {"name": "Ann"}, variant="B")["text"] == "Ann, welcome aboard!"
    stats = admin.variant_stats("py_ab")
    assert stats["running"] and "not enough data" in stats["clicked"]["note"]
    assert sum(v["messages"] for v in stats["variants"]) == 2
    assert "not enough data" in stats["converted"]["note"]

    promoted = admin.promote_variant("py_ab", "B")
    assert promoted["variants"] is None and promoted["content_en"] == "{{name}}, welcome aboard!"
    with pytest.raises(NotFoundError):
        admin.promote_variant("py_ab", "B")
    restarted = admin.set_template_variants("py_ab", variants)
    assert restarted["variant_test_id"] != tpl["variant_test_id"]
    assert admin.end_variant_test("py_ab")["variants"] is None
    with pytest.raises(ValidationError) as err:
        admin.set_template_variants("py_ab", [variants[0], {**variants[1], "weight": 0}])
    assert err.value.details[0]["field"] == "variants[1].weight"

    campaign = admin.create_campaign("Optimal", "py_ab", {"roles": ["nobody"]}, send_at="optimal",
                                     optimal_window_hours=12)
    assert campaign["send_at"] == "optimal" and campaign["optimal_window_hours"] == 12
    admin.cancel_campaign(campaign["campaign_id"])


def test_stats_and_cost_reports(sms_service: SMSService, admin: SMSService) -> None:
    sms_service.send("+12025550123", "counted", message_type="general_notification")
    stats = admin.stats(group_by="message_type")
    assert stats["totals"]["total"] >= 1
    assert any(g["key"] == "general_notification" for g in stats["groups"])
    with pytest.raises(ValidationError) as err:
        admin.stats(start_date="yesterday")
    assert err.value.details[0]["field"] == "start_date"

    month = time.strftime("%Y-%m", time.gmtime())
    report = admin.cost_report(month)
    assert report["month"] == month
    csv = admin.cost_report_csv(month)
    assert isinstance(csv, str) and csv.startswith("section,key,currency,messages,")


def test_link_stats_and_tenant_settings(admin: SMSService) -> None:
    stats = admin.link_stats(group_by="template")
    assert stats["group_by"] == "template"
    assert stats["totals"] == {"campaign_id": None, "template_id": None, "variant": None,
                               "messages": 0, "clicked": 0, "click_rate": 0, "hits": 0}
    with pytest.raises(ValidationError) as err:
        admin.link_stats(group_by="day")
    assert err.value.details[0]["field"] == "group_by"
    # Tenant settings are the operator's: a tenant admin is refused.
    with pytest.raises(PermissionDeniedError):
        admin.update_tenant_settings(1, link_tracking=True)


def test_alerts_and_inbound(admin: SMSService) -> None:
    assert admin.list_alerts(limit=5)["items"] == []
    assert not hasattr(admin, "rotate_alert_signing_secret")
    assert admin.list_inbound(from_="+12025550123", limit=5) == {"items": [], "next_cursor": None}
    with pytest.raises(ValidationError) as err:
        admin.list_inbound(from_="not a number")
    assert err.value.details[0]["field"] == "from"


class _Receiver:
    """A platform's webhook receiver on 127.0.0.1: keeps each POST's raw body and headers."""

    def __init__(self) -> None:
        self.received: List[Dict[str, Any]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append({"path": self.path, "headers": dict(self.headers.items()), "raw": raw})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    r = _Receiver()
    yield r
    r.close()


def test_a_real_callback_verifies_with_verify_webhook_signature(admin: SMSService, receiver: _Receiver) -> None:
    endpoint = admin.create_webhook_endpoint(f"{receiver.url}/sms-events", description="python test",
                                             events=["message.sent"])
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert endpoint["id"] in [e["id"] for e in admin.list_webhook_endpoints()]
    assert all("secret" not in e for e in admin.list_webhook_endpoints())

    sent = admin.send("+12025550123", "a callback, please")

    def callback() -> Optional[Dict[str, Any]]:
        for r in receiver.received:
            if json.loads(r["raw"])["data"]["message_id"] == sent["message_id"]:
                return r
        return None

    got = eventually(callback, "the message.sent callback")
    header = got["headers"]["X-SMS-Signature"]
    assert header.startswith("t=")
    assert verify_webhook_signature(secret, header, got["raw"]) is True
    assert verify_webhook_signature(secret, header, got["raw"].decode("utf-8")) is True
    assert verify_webhook_signature("whsec_wrong", header, got["raw"]) is False
    assert verify_webhook_signature(secret, header, got["raw"] + b" ") is False
    # A replay after the tolerance is refused.
    t = int(header.split(",")[0][2:])
    assert verify_webhook_signature(secret, header, got["raw"], now=t + 301) is False
    assert verify_webhook_signature(secret, header, got["raw"], tolerance_seconds=600, now=t + 301) is True
    assert json.loads(got["raw"])["type"] == "message.sent"
    assert got["headers"]["X-SMS-Event-Type"] == "message.sent"

    delivery = eventually(
        lambda: next(iter(admin.list_webhook_deliveries(message_id=sent["message_id"], status="delivered")["items"]),
                     None),
        "the delivery to be recorded",
    )
    detail = admin.get_webhook_delivery(delivery["id"])
    assert detail["attempts"] == 1 and detail["attempt_log"][0]["status_code"] == 200
    assert admin.replay_webhook_delivery(delivery["id"])["status"] == "pending"
    eventually(lambda: True if sum(r["raw"] == got["raw"] for r in receiver.received) >= 2 else None,
               "the replayed callback")

    rotated = admin.rotate_webhook_secret(endpoint["id"])
    assert rotated["secret"] != secret
    admin.delete_webhook_endpoint(endpoint["id"])
    assert endpoint["id"] not in [e["id"] for e in admin.list_webhook_endpoints()]
    with pytest.raises(NotFoundError):
        admin.delete_webhook_endpoint(endpoint["id"])


def _vectors() -> Dict[str, Any]:
    raw = os.environ.get("SMS_SIGNATURE_VECTORS")
    if not raw:
        pytest.skip("SMS_SIGNATURE_VECTORS is not set: run through `npx jest test/clients/python-client.e2e-spec.ts`")
    return json.loads(raw)


def test_signatures_match_the_services_own_signing_code() -> None:
    """The vectors were signed by the service's signWebhook, the one signing code of every webhook."""
    v = _vectors()
    body, secret = v["body"], v["secret"]
    assert verify_webhook_signature(secret, v["callback_header"], body, now=v["t"]) is True
    assert verify_webhook_signature(secret, v["callback_header"], body.encode("utf-8"), now=v["t"] + 300) is True
    assert verify_webhook_signature(secret, v["callback_header"], body, now=v["t"] + 301) is False
    assert verify_webhook_signature(secret, v["callback_header"], body + "x", now=v["t"]) is False
    assert verify_webhook_signature(secret + "x", v["callback_header"], body, now=v["t"]) is False
    assert verify_webhook_signature(secret, None, body, now=v["t"]) is False
    # The retired alert signature (a bare HMAC of the body, no timestamp) is not a webhook signature.
    assert verify_webhook_signature(secret, v["untimed_header"], body, now=v["t"]) is False


def test_channels(sms_service: SMSService, admin: SMSService) -> None:
    """WhatsApp through the client's channel arguments (sandbox provider), its 400s, and the split by channel."""
    sid = "HX" + "0123456789abcdef" * 2
    sent = sms_service.send("+12025550177", "Your results are ready", message_type="assessment_notification",
                            channel="whatsapp", content_sid=sid, content_variables={"1": "Ann"},
                            fallback_channel="sms")
    # No inbound message from the number: its 24-hour session window is closed, so the template goes.
    assert sent["channel"] == "whatsapp" and sent["whatsapp_mode"] == "template"

    def gone_out() -> Optional[Dict[str, Any]]:
        s = sms_service.get_status(sent["message_id"])
        return s if s["status"] in ("sent", "delivered") else None

    status = eventually(gone_out, "the WhatsApp message sent")
    assert status["channel"] == "whatsapp" and status["whatsapp_mode"] == "template"

    with pytest.raises(ValidationError) as err:
        sms_service.send("+12025550177", "hi", channel="fax")
    assert err.value.details[0]["field"] == "channel"
    with pytest.raises(ValidationError) as err:
        sms_service.send("+12025550178", "no template and no session", channel="whatsapp")
    assert err.value.details[0]["field"] == "content_sid"
    with pytest.raises(ValidationError) as err:
        sms_service.send("+12025550177", "hi", channel="whatsapp", content_sid="HX12")
    assert err.value.details[0]["field"] == "content_sid"

    code = sms_service.send_verification_code("+12025550179", "2fa", code="604213", channel="whatsapp",
                                              content_sid=sid)
    assert code["channel"] == "whatsapp" and code["whatsapp_mode"] == "template"
    assert sms_service.check_verification_code("+12025550179", "2fa", "604213") is True
    with pytest.raises(ValidationError) as err:
        sms_service.send_verification_code("+12025550179", "2fa", channel="mms")
    assert err.value.details[0]["field"] == "channel"

    by_channel = {c["channel"]: c for c in admin.channel_stats()["by_channel"]}
    assert by_channel["whatsapp"]["total"] >= 1
