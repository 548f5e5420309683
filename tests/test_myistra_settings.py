"""MyIstra's settings page: my numbers and caller id, black and white list, call waiting per phone,
remote terminals."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from telephony.actions import call_settings as call_settings_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.choices import BarringDirection, CallerIdChoice, DeviceKind, NumberClass, Screening
from telephony.models import CallSettings, Device, PhoneNumber

from .conftest import PublishedEvents
from .personas import Person


def _logged_in(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _errors_of(html: str) -> str:
    return unescape(" ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)))


def _numbers_form(**overrides: Any) -> dict[str, Any]:
    data = {"home_number": "", "mobile_number": "", "caller_id": "auto", "caller_id_number": ""}
    data.update(overrides)
    return data


def _did(person: Person, number: str) -> PhoneNumber:
    assert person.user.company is not None
    return dial_plan_actions.create_phone_number(
        company=person.user.company, number=number, destination="user", user=person.user
    )


def test_settings_page_shows_my_extension_and_my_public_numbers_only(
    client: Client, bob: Person, carol: Person
) -> None:
    # given
    _did(bob, "+33140000101")
    _did(carol, "+33140000102")

    # when
    html = _logged_in(client, bob).get(reverse("portal:settings")).content.decode()

    # then
    assert '<strong id="settings-extension">101</strong>' in html
    assert '<strong class="public-number">+33140000101</strong>' in html
    assert "+33140000102" not in html
    assert 'id="dnd-toggle"' in html


def test_saving_my_home_and_mobile_numbers_tidies_their_spaces(
    client: Client, bob: Person, published: PublishedEvents, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _logged_in(client, bob).post(
            reverse("portal:settings_numbers"),
            _numbers_form(home_number="01 23 45 67 89", mobile_number="06.12.34.56.78"),
        )

    # then
    assert response.status_code == 302
    call_settings = CallSettings.objects.get(user=bob.user)
    assert (call_settings.home_number, call_settings.mobile_number) == ("0123456789", "0612345678")
    assert [event["type"] for event in published.to(bob)] == ["settings.changed"]


def test_a_malformed_mobile_number_is_refused_and_kept_in_the_form(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_numbers"), _numbers_form(mobile_number="06 12 AB")
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "Digits only, with an optional leading +." in _errors_of(html)
    assert 'value="06 12 AB"' in html


def test_i_can_show_one_of_my_public_numbers_on_outside_calls(client: Client, bob: Person) -> None:
    # given
    did = _did(bob, "+33140000101")

    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_numbers"), _numbers_form(caller_id="number", caller_id_number=str(did.pk))
    )

    # then
    assert response.status_code == 302
    call_settings = CallSettings.objects.get(user=bob.user)
    assert (call_settings.caller_id, call_settings.caller_id_number) == (CallerIdChoice.NUMBER, did)


def test_showing_a_public_number_needs_one_chosen(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_numbers"), _numbers_form(caller_id="number")
    )

    # then
    assert response.status_code == 400
    assert "Choose which of your public numbers to show." in _errors_of(response.content.decode())


def test_a_colleagues_public_number_is_neither_offered_nor_accepted(
    client: Client, bob: Person, carol: Person
) -> None:
    # given
    carols = _did(carol, "+33140000102")
    _logged_in(client, bob)

    # when
    page = client.get(reverse("portal:settings")).content.decode()
    response = client.post(
        reverse("portal:settings_numbers"), _numbers_form(caller_id="number", caller_id_number=str(carols.pk))
    )

    # then
    assert "+33140000102" not in page
    assert response.status_code == 400
    assert CallSettings.objects.filter(user=bob.user, caller_id_number=carols).count() == 0


def test_a_black_list_keeps_the_listed_numbers(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_screening"),
        {"screening": "blacklist", "screened_numbers": "103, 06 12 34 56 78", "reject_anonymous": "on"},
    )

    # then
    assert response.status_code == 302
    call_settings = CallSettings.objects.get(user=bob.user)
    assert call_settings.screening == Screening.BLACKLIST
    assert call_settings.screened_numbers == ["103", "0612345678"]
    assert call_settings.reject_anonymous is True


def test_a_white_list_with_nobody_on_it_is_refused(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_screening"), {"screening": "whitelist", "screened_numbers": ""}
    )

    # then
    assert response.status_code == 400
    assert "A white list with nobody on it would refuse every caller" in _errors_of(response.content.decode())


def test_a_malformed_listed_number_is_refused_by_name(client: Client, bob: Person) -> None:
    # when
    response = _logged_in(client, bob).post(
        reverse("portal:settings_screening"), {"screening": "blacklist", "screened_numbers": "103, spam"}
    )

    # then
    assert response.status_code == 400
    assert "“spam” is not a phone number." in _errors_of(response.content.decode())


# --- Call waiting and remote terminals ------------------------------------------------------------


def test_call_waiting_lets_my_desk_phone_take_three_calls_then_one_again(client: Client, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)
    _logged_in(client, bob)
    url = reverse("portal:phone_call_waiting", args=[device.pk])

    # when / then
    assert "One call only (no call waiting)" in client.get(reverse("portal:settings")).content.decode()
    client.post(url, {"max_calls": "3"})
    assert Device.objects.get(pk=device.pk).max_calls == 3
    client.post(url, {"max_calls": "1"})
    assert Device.objects.get(pk=device.pk).max_calls == 1


def test_more_than_eight_calls_at_once_is_refused(client: Client, bob: Person) -> None:
    # given
    device = Device.objects.get(user=bob.user)

    # when
    response = _logged_in(client, bob).post(
        reverse("portal:phone_call_waiting", args=[device.pk]), {"max_calls": "9"}
    )

    # then
    assert response.status_code == 400
    assert Device.objects.get(pk=device.pk).max_calls == 1


def test_adding_my_mobile_as_a_remote_terminal_that_avoids_its_voicemail(
    client: Client, bob: Person, published: PublishedEvents, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _logged_in(client, bob).post(
            reverse("portal:remote_terminal_add"),
            {"label": "My mobile", "number": "06 12 34 56 78", "ring_delay": "10", "avoid_voicemail": "on"},
        )

    # then
    assert response.status_code == 302
    remote = Device.objects.get(user=bob.user, kind=DeviceKind.REMOTE)
    assert (remote.label, remote.number, remote.ring_delay, remote.avoid_voicemail) == (
        "My mobile",
        "0612345678",
        10,
        True,
    )
    assert [event["type"] for event in published.to(bob)] == ["settings.changed"]
    html = client.get(reverse("portal:settings")).content.decode()
    assert 'data-number="0612345678"' in html


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("102", "A remote terminal is an outside number, e.g. 0612345678."),
        ("0044207946000", "You are not allowed to call 0044207946000."),
    ],
)
def test_a_remote_terminal_must_be_an_outside_number_i_may_call(
    client: Client, alice: Person, bob: Person, number: str, message: str
) -> None:
    # given
    assert bob.user.company is not None
    dial_plan_actions.create_barring_rule(
        company=bob.user.company, direction=BarringDirection.OUTGOING, number_class=NumberClass.INTERNATIONAL
    )

    # when
    response = _logged_in(client, bob).post(
        reverse("portal:remote_terminal_add"), {"label": "Abroad", "number": number, "ring_delay": "0"}
    )

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert message in _errors_of(html)
    assert f'value="{number}"' in html


def test_changing_a_remote_terminal_delay_and_switching_it_off(client: Client, bob: Person) -> None:
    # given
    remote = call_settings_actions.add_remote_terminal(user=bob.user, number="0612345678", label="Mobile")

    # when
    response = _logged_in(client, bob).post(
        reverse("portal:remote_terminal_update", args=[remote.pk]),
        {"ring_delay": "15", "avoid_voicemail": "on"},
    )

    # then
    assert response.status_code == 302
    remote.refresh_from_db()
    assert (remote.ring_delay, remote.enabled, remote.avoid_voicemail) == (15, False, True)


def test_removing_a_remote_terminal(client: Client, bob: Person) -> None:
    # given
    remote = call_settings_actions.add_remote_terminal(user=bob.user, number="0612345678", label="Mobile")

    # when
    _logged_in(client, bob).post(reverse("portal:remote_terminal_delete", args=[remote.pk]))

    # then
    assert not Device.objects.filter(pk=remote.pk).exists()


def test_my_desk_phone_is_not_mine_to_remove(client: Client, bob: Person) -> None:
    # given
    desk_phone = Device.objects.get(user=bob.user)

    # when
    response = _logged_in(client, bob).post(
        reverse("portal:remote_terminal_delete", args=[desk_phone.pk]), follow=True
    )

    # then
    assert Device.objects.filter(pk=desk_phone.pk).exists()
    assert "Only your administrator can remove this phone." in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("portal:phone_call_waiting", {"max_calls": "2"}),
        ("portal:remote_terminal_update", {"ring_delay": "5"}),
        ("portal:remote_terminal_delete", {}),
    ],
)
def test_someone_elses_phone_is_not_found(
    client: Client, bob: Person, carol: Person, url_name: str, data: dict[str, str]
) -> None:
    # given
    carols_mobile = call_settings_actions.add_remote_terminal(
        user=carol.user, number="0698765432", label="Mobile"
    )

    # when
    response = _logged_in(client, bob).post(reverse(url_name, args=[carols_mobile.pk]), data)

    # then
    assert response.status_code == 404
    carols_mobile.refresh_from_db()
    assert (carols_mobile.max_calls, carols_mobile.ring_delay) == (1, 0)


def test_myistra_lists_a_remote_terminal_by_its_number(client: Client, bob: Person) -> None:
    # given
    call_settings_actions.add_remote_terminal(user=bob.user, number="0612345678", label="Mobile")

    # when
    html = _logged_in(client, bob).get(reverse("portal:myistra")).content.decode()

    # then
    assert '<span class="remote-number">0612345678</span>' in html


def test_removing_a_remote_terminal_asks_first(client: Client, bob: Person) -> None:
    # given
    remote = call_settings_actions.add_remote_terminal(user=bob.user, label="Mobile", number="0612345678")
    client.force_login(bob.user)
    page = client.get(reverse("portal:settings")).content.decode()
    assert f'href="/me/settings/remote-terminals/{remote.pk}/delete/"' in page

    # when he opens Remove
    question = client.get(reverse("portal:remote_terminal_delete", args=[remote.pk])).content.decode()

    # then he is asked, and nothing is removed yet
    assert "Remove Mobile (0612345678)?" in question
    assert Device.objects.filter(pk=remote.pk).exists()
