"""Acting on a call in progress through the bridge (the command path, telephony/contract.py)."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from directory.api.permissions import IsCompanyMember
from directory.models import User
from telephony import bridge_commands
from telephony.contract import NOT_FOUND


class HangUpCallView(APIView):
    """Hang up a call of mine that is in progress: every side of it ends, as if I had hung up."""

    permission_classes = [IsCompanyMember]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(description="The call is being hung up."),
            404: OpenApiResponse(description="No call of yours in progress has this id."),
            503: OpenApiResponse(description="The telephone service did not answer."),
        },
    )
    def post(self, request: Request, pk: uuid.UUID) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsCompanyMember ran first
        result = bridge_commands.hang_up_call(user=user, call_id=pk)
        if result.ok:
            return Response({"status": "hanging_up"}, status=status.HTTP_202_ACCEPTED)
        if result.error == NOT_FOUND:
            return Response(
                {"detail": _("No call of yours in progress has this id (it may have just ended).")},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(
            {"detail": _("The telephone service did not answer; please try again.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
