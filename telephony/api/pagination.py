"""How every list of the API is cut into pages."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 200
# Past any table's end: a larger offset would overflow PostgreSQL's bigint and answer 500.
MAX_OFFSET = 10**9


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`?limit=` and `?offset=`, with a page of at most MAX_PAGE_SIZE items whatever the limit asked
    (a huge limit neither dumps a table nor overflows the database)."""

    max_limit = MAX_PAGE_SIZE

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
