"""Every list of the API is cut into pages of at most MAX_PAGE_SIZE items, whatever `limit` or
`offset` a client sends: a huge one neither answers 500 nor dumps a whole table."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from telephony.api.pagination import MAX_PAGE_SIZE
from telephony.api.urls import router
from telephony.models import SpeedDial
from voicemail.api.urls import router as voicemail_router

from .personas import Person

LIST_URLS = [
    f"api:{basename}-list" for _prefix, _viewset, basename in [*router.registry, *voicemail_router.registry]
] + ["directory-api:list"]
HUGE = "9223372036854775808"


@pytest.fixture
def admin_client(alice: Person) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice.user)
    return client


@pytest.mark.parametrize("url_name", LIST_URLS)
@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_a_huge_limit_or_offset_is_answered_with_a_page(
    admin_client: APIClient, url_name: str, parameter: str
) -> None:
    response = admin_client.get(reverse(url_name), {parameter: HUGE})

    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["results"]) <= MAX_PAGE_SIZE


def test_a_limit_of_a_million_gives_at_most_a_page_of_a_long_list(
    alice: Person, admin_client: APIClient
) -> None:
    # given: more speed dials than a page holds
    assert alice.user.company is not None
    SpeedDial.objects.bulk_create(
        SpeedDial(company=alice.user.company, short_number=f"{n}", number="0145678900", label=f"n{n}")
        for n in range(1000, 1000 + MAX_PAGE_SIZE + 50)
    )

    # when
    page = admin_client.get(reverse("api:speed-dial-list"), {"limit": "1000000"}).json()

    # then: a page, and the way to the rest
    assert page["count"] == MAX_PAGE_SIZE + 50
    assert len(page["results"]) == MAX_PAGE_SIZE
    assert page["next"]
