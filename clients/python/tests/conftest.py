import os

import pytest

from sms_client import SMSService


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"{name} is not set: run through `npx jest test/clients/python-client.e2e-spec.ts`")
    return value


@pytest.fixture
def base_url() -> str:
    return _env("SMS_BASE_URL")


@pytest.fixture
def sms_service(base_url: str) -> SMSService:
    """A plain user of a fresh tenant (the brief's `sms_service`)."""
    with SMSService(base_url, _env("SMS_USER_TOKEN"), timeout=10) as client:
        yield client


@pytest.fixture
def admin(base_url: str) -> SMSService:
    with SMSService(base_url, _env("SMS_ADMIN_TOKEN"), timeout=10) as client:
        yield client
