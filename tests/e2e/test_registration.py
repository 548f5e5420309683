"""Phones register with their SIP password, only with it, and as soon as Django creates them."""

from __future__ import annotations

import asyncio
import time

import pytest

from telephony.actions.devices import add_device, update_device
from telephony.models import Device
from tests.personas import Person
from tests.sipua import SipUA

from .phones import server

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bridge")]


async def register_once(username: str, password: str) -> int:
    ua = await SipUA.create(username, password, server=server())
    try:
        return await ua.register()
    finally:
        await ua.close()


async def register_within(username: str, password: str, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    status = 0
    while time.monotonic() - started < seconds:
        status = await register_once(username, password)
        if status == 200:
            break
    return status, time.monotonic() - started


def test_a_phone_registers_with_the_right_password(bob: Person) -> None:
    assert asyncio.run(register_once(bob.sip_username, bob.sip_password)) == 200


def test_a_phone_with_a_wrong_password_is_refused(bob: Person) -> None:
    status = asyncio.run(register_once(bob.sip_username, "not-" + bob.sip_password))

    assert status in (401, 403)


def test_an_unknown_sip_username_is_refused(bob: Person) -> None:
    assert asyncio.run(register_once("nobody-999", "whatever")) in (401, 403)


def test_a_new_device_is_registrable_within_a_second_without_restarting_asterisk(bob: Person) -> None:
    # given bob gets a second phone in Django
    device, credentials = add_device(user=bob.user, label="Softphone", ring_delay=5)

    # when the new phone registers
    status, elapsed = asyncio.run(register_within(credentials.username, credentials.password, 1.0))

    # then Asterisk knows it at once, and Django kept only the digest hash
    assert status == 200, f"registration failed with {status}"
    assert elapsed < 1.0
    stored = Device.objects.get(pk=device.pk)
    assert credentials.password not in stored.sip_ha1 and len(stored.sip_ha1) == 32


def test_a_disabled_device_can_no_longer_register(bob: Person) -> None:
    # given bob's phone is disabled by his admin
    device = Device.objects.get(sip_username=bob.sip_username)
    update_device(device=device, enabled=False)

    # then it cannot register any more; enabling it again restores it
    assert asyncio.run(register_once(bob.sip_username, bob.sip_password)) in (401, 403)
    update_device(device=device, enabled=True)
    assert asyncio.run(register_within(bob.sip_username, bob.sip_password, 1.0))[0] == 200


def test_a_push_that_drops_a_field_clears_it_on_asterisk(bob: Person) -> None:
    """Pushing onto an endpoint Asterisk already has keeps every field the push does not name: a
    phone whose user lost his voicemail box must lose its message lamp too."""
    from telephony.ari_http import ari_get_json, ari_request
    from telephony.provisioning import device_objects, push_device

    def fields(kind: str) -> dict[str, str]:
        found = ari_get_json(f"/asterisk/config/dynamic/res_pjsip/{kind}/{bob.sip_username}") or []
        return {field["attribute"]: field["value"] for field in found}

    device = Device.objects.get(sip_username=bob.sip_username)
    assert bob.user.company is not None
    box = f"{bob.extension}@{bob.user.company.slug}"
    assert fields("endpoint")["mailboxes"] == box

    # when the device is pushed again without a box (as for a user without an extension)
    for kind, object_id, values in device_objects(device, language="en", caller_id="Bob <101>"):
        body = {"fields": [{"attribute": k, "value": v} for k, v in values]}
        assert ari_request("PUT", f"/asterisk/config/dynamic/res_pjsip/{kind}/{object_id}", body=body) < 300

    # then Asterisk holds no box for it any more, on the endpoint nor on the AOR
    assert fields("endpoint")["mailboxes"] == ""
    assert fields("aor")["mailboxes"] == ""
    # and the next ordinary push puts it back
    assert push_device(device)
    assert fields("endpoint")["mailboxes"] == box
