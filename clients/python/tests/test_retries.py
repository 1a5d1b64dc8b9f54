"""Retries without a server: httpx's MockTransport plays the service."""
from typing import List

import httpx
import pytest

from sms_client import ServiceUnavailableError, SMSConnectionError, SMSService, SpendCapError


def test_a_503_is_retried_with_the_same_idempotency_key() -> None:
    keys: List[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            return httpx.Response(503, headers={"Retry-After": "0"},
                                  json={"statusCode": 503, "error": "Service Unavailable", "message": "redis is unavailable"})
        return httpx.Response(202, json={"success": True, "message_id": "m-1", "status": "queued"})

    client = SMSService("http://sms.test", "t", transport=httpx.MockTransport(handler))
    assert client.send("+12025550123", "hi")["message_id"] == "m-1"
    assert len(keys) == 2 and keys[0] == keys[1]


def test_gives_up_with_a_typed_error_after_the_retries() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "0", "X-Request-Id": "r-1"},
                              json={"statusCode": 503, "error": "Service Unavailable", "message": "database is unavailable"})

    client = SMSService("http://sms.test", "t", retries=1, transport=httpx.MockTransport(handler))
    with pytest.raises(ServiceUnavailableError) as err:
        client.send("+12025550123", "hi")
    assert err.value.retry_after == 0 and err.value.request_id == "r-1"
    assert client.send_2fa_code("+12025550123", "123456") == (False, None)


def test_connection_errors_are_retried_then_raised() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("Idempotency-Key"))
        raise httpx.ConnectError("refused", request=request)

    client = SMSService("http://sms.test", "t", retries=2, max_retry_wait=0, transport=httpx.MockTransport(handler))
    with pytest.raises(SMSConnectionError):
        client.send("+12025550123", "hi")
    assert len(calls) == 3 and len(set(calls)) == 1


def test_channel_fields_go_in_the_body_only_when_given() -> None:
    bodies: List[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        bodies.append(json.loads(request.content))
        return httpx.Response(202, json={"success": True, "message_id": "m-1", "status": "queued"})

    client = SMSService("http://sms.test", "t", transport=httpx.MockTransport(handler))
    client.send("+12025550123", "hi")
    client.send("+12025550123", "hi", channel="whatsapp", content_sid="HX" + "0" * 32,
                content_variables={"1": "Ada"}, fallback_channel="sms")
    client.send_bulk(["+12025550123"], "hi", channel="mms", media_urls=["https://cdn.example.com/a.jpg"])
    assert "channel" not in bodies[0]
    assert bodies[1]["channel"] == "whatsapp" and bodies[1]["content_variables"] == {"1": "Ada"}
    assert bodies[1]["fallback_channel"] == "sms" and bodies[1]["content_sid"].startswith("HX")
    assert bodies[2]["media_urls"] == ["https://cdn.example.com/a.jpg"]


def test_a_402_is_a_spend_cap_error_and_not_retried() -> None:
    calls = []
    detail = {"rule": "monthly_spend_cap", "errors": ["monthly spend cap reached: 1 of 1 USD spent this month"],
              "cap": "1", "month_to_date": "1", "estimated_cost": "0.0079", "currency": "USD"}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(402, json={"statusCode": 402, "error": "Payment Required",
                                         "message": detail["errors"][0], "details": [detail]})

    client = SMSService("http://sms.test", "t", transport=httpx.MockTransport(handler))
    with pytest.raises(SpendCapError) as err:
        client.send("+12025550123", "hi")
    assert err.value.status_code == 402 and err.value.details == [detail]
    assert len(calls) == 1
