"""What the platform tells Asterisk about each phone, as far as security goes (J2)."""

from __future__ import annotations

from telephony.models import Device
from telephony.provisioning import device_objects

from .personas import Person


def test_a_phones_endpoint_declines_transfers_until_in_call_control_handles_them(bob: Person) -> None:
    device = Device.objects.get(user=bob.user)

    objects = {
        kind: dict(fields) for kind, _sid, fields in device_objects(device, language="en", caller_id="")
    }

    assert objects["endpoint"]["allow_transfer"] == "no"
