"""The company administrator's view of the SIP guard: sources blocked after trying their accounts."""

from __future__ import annotations

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from directory.models import User
from telephony.api.permissions import IsCompanyAdmin

from . import actions, queries


def _admin(request: Request) -> tuple[User, int]:
    user = request.user
    assert isinstance(user, User) and user.company_id is not None  # IsCompanyAdmin ran first
    return user, user.company_id


class SipBlockSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(read_only=True)
    address = serializers.IPAddressField(read_only=True)
    reason = serializers.CharField(read_only=True)
    failures = serializers.IntegerField(read_only=True)
    accounts = serializers.ListField(child=serializers.CharField(), read_only=True)
    blocked_at = serializers.DateTimeField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)


class SipBlockListView(APIView):
    """Sources blocked now after failing on the company's SIP accounts (R3); its admins only."""

    permission_classes = [IsCompanyAdmin]

    @extend_schema(responses=SipBlockSerializer(many=True))
    def get(self, request: Request) -> Response:
        _user, company_id = _admin(request)
        blocks = queries.company_blocks(company_id, timezone.now())
        return Response(SipBlockSerializer(blocks, many=True).data)


class SipBlockLiftView(APIView):
    """Let a blocked source in again before its block ends (a phone of the company that was misconfigured)."""

    permission_classes = [IsCompanyAdmin]

    @extend_schema(request=None, responses={204: None, 404: None})
    def post(self, request: Request, block_id: int) -> Response:
        now = timezone.now()
        user, company_id = _admin(request)
        block = queries.company_block(company_id, block_id, now)
        if block is None:
            return Response({"detail": "No such block in force."}, status=status.HTTP_404_NOT_FOUND)
        actions.lift_block(block=block, by=user, now=now)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("sip-blocks/", SipBlockListView.as_view(), name="sip-blocks"),
    path("sip-blocks/<int:block_id>/lift/", SipBlockLiftView.as_view(), name="sip-block-lift"),
]
