"""The brief's "Python SDK Usage" examples, unchanged apart from the constructor, against the real service."""
from datetime import datetime, timedelta, timezone

import pytest

from sms_client import NotFoundError, SMSService, ValidationError


def test_brief_examples_work_as_written(sms_service: SMSService) -> None:
    # The stored appointment the reminder is for (the platform PUTs it when it is booked).
    sms_service.upsert_appointment(
        123,
        phone_number="+12025550123",
        starts_at=datetime.now(timezone.utc) + timedelta(hours=3),
        trainer_name="John Doe",
        location="Training Room A",
        user_id=456,
    )

    # Send appointment reminder
    success, message_id = sms_service.send_appointment_reminder(
        appointment_id=123,
        phone_number="+12025550123",
        user_id=456,
        language="en",
    )
    assert success is True and message_id
    # Idempotent per appointment start: again answers the same message.
    assert sms_service.send_appointment_reminder(123, "+12025550123", 456, "en") == (True, message_id)

    # Send password reset code
    success, message_id = sms_service.send_password_reset_code(
        phone_number="+12025550123",
        reset_code="123456",
        user_id=456,
        language="en",
    )
    assert success is True and message_id
    assert sms_service.check_verification_code("+12025550123", "password_reset", "123456") is True

    # Send 2FA code
    success, message_id = sms_service.send_2fa_code(
        phone_number="+12025550123",
        auth_code="987654",
        user_id=456,
        language="en",
    )
    assert success is True and message_id
    assert sms_service.check_verification_code("+12025550123", "2fa", "000000") is False

    # Validate phone number
    is_valid, formatted = sms_service.validate_phone_number(
        phone_number="234-567-8900",
        country_code="US",
    )
    assert (is_valid, formatted) == (True, "+12345678900")
    assert sms_service.validate_phone_number("123", "US") == (False, None)


def test_refused_brief_send_answers_false_and_keeps_the_error(sms_service: SMSService) -> None:
    assert sms_service.send_appointment_reminder(999999, "+12025550123", 456, "en") == (False, None)
    assert isinstance(sms_service.last_error, NotFoundError)
    assert sms_service.last_error.status_code == 404


def test_rest_methods_and_typed_errors(sms_service: SMSService, admin: SMSService) -> None:
    sent = sms_service.send("+12025550123", "Your appointment is tomorrow at 2 PM",
                            message_type="appointment_reminder", language="en", metadata={"appointment_id": 123})
    assert sent["status"] == "queued" and sent["success"] is True
    status = sms_service.get_status(sent["message_id"])
    assert status["message_id"] == sent["message_id"]

    # Same explicit key, same body: the first answer again, nothing sent twice.
    first = sms_service.send("+12025550123", "hello", idempotency_key="py-key-1")
    again = sms_service.send("+12025550123", "hello", idempotency_key="py-key-1")
    assert again["message_id"] == first["message_id"]

    bulk = sms_service.send_bulk(["+12025550123", "+1234567890"], "Important announcement")
    assert bulk["accepted"] == 1 and bulk["rejected"][0]["phone_number"] == "+1234567890"

    later = datetime.now(timezone.utc) + timedelta(days=1)
    scheduled = sms_service.schedule("+12025550123", "Reminder: Your assessment is due tomorrow", later,
                                     message_type="assessment_notification")
    assert scheduled["status"] == "scheduled"
    sms_service.cancel(scheduled["message_id"])
    assert sms_service.get_status(scheduled["message_id"])["status"] == "canceled"

    # A validity period: the message may wait this long for a provider, then ends expired.
    valid = sms_service.schedule("+12025550123", "Doors open at 9", later, validity_seconds=600)
    expires = datetime.fromisoformat(sms_service.get_status(valid["message_id"])["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - later).total_seconds() - 600) < 1
    sms_service.cancel(valid["message_id"])
    with pytest.raises(ValidationError) as too_long:
        sms_service.send("+12025550123", "hi", validity_seconds=0)
    assert too_long.value.details[0]["field"] == "validity_seconds"

    templated = sms_service.send_templated("+12025550123", "appointment_reminder", {
        "date": "March 15, 2024", "time": "2:00 PM", "trainer_name": "John Doe", "location": "Training Room A",
    }, language="en")
    assert templated["success"] is True
    assert any(t["template_id"] == "appointment_reminder" for t in sms_service.list_templates())

    page = admin.history(limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]

    with pytest.raises(ValidationError) as err:
        sms_service.send("123", "hi")
    assert err.value.status_code == 400
    assert err.value.details[0]["field"] == "phone_number"
    assert err.value.request_id

    with pytest.raises(NotFoundError):
        sms_service.get_status("00000000-0000-4000-8000-000000000000")
    assert sms_service.me()["roles"] == []
