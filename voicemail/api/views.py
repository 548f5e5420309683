"""The REST API of a user's own voicemail: their messages, their mailbox's settings, its PIN.

Every queryset starts from the requesting user, so anyone else's message, a colleague's included,
answers 404. Writes with side effects (read, delete, PIN) go through voicemail.actions.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from directory.api.permissions import IsCompanyMember
from directory.models import User
from telephony.actions.devices import SipCredentials
from telephony.api import views as telephony_views
from voicemail import actions
from voicemail.models import Mailbox, Message

from .serializers import MailboxSerializer, MessageSerializer, PinSerializer


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsCompanyMember ran first
    return user


class MessageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Message],
):
    """My voicemail messages, newest first. DELETE one to delete it; POST read/ once listened to."""

    permission_classes = [IsCompanyMember]
    queryset = Message.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = MessageSerializer

    def get_queryset(self) -> QuerySet[Message]:
        messages = Message.objects.stored().of_user(_user(self.request).pk).order_by("-created_at")
        if self.action in ("read", "destroy"):
            # The action announces the new counts to the phones and browsers, which reads these.
            messages = messages.select_related("mailbox__user__extension", "mailbox__company")
        return messages

    def perform_destroy(self, instance: BaseSerializer[Any] | Message) -> None:
        assert isinstance(instance, Message)
        actions.delete_message(message=instance)

    @extend_schema(request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the message read (the phone's lamp and the MyIstra badge follow)."""
        message = self.get_object()
        actions.mark_read(message=message, at=timezone.now())
        return Response(self.get_serializer(message).data)

    @extend_schema(responses={(200, "audio/wav"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def audio(self, request: Request, pk: str | None = None) -> FileResponse:
        """The message as WAV (8 kHz mono)."""
        message = self.get_object()
        if not message.audio:
            raise Http404
        try:
            handle = message.audio.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        return FileResponse(handle, content_type="audio/wav")


class MailboxView(APIView):
    """My mailbox's settings: whether it takes messages, how I am notified, which greeting callers hear."""

    permission_classes = [IsCompanyMember]

    @extend_schema(responses=MailboxSerializer)
    def get(self, request: Request) -> Response:
        return Response(MailboxSerializer(actions.ensure_mailbox(user=_user(request))).data)

    @extend_schema(request=MailboxSerializer, responses=MailboxSerializer)
    def patch(self, request: Request) -> Response:
        mailbox = actions.ensure_mailbox(user=_user(request))
        serializer = MailboxSerializer(mailbox, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data:
            # The owner's preferences, with no side effect elsewhere: saved as they are.
            for field, value in serializer.validated_data.items():
                setattr(mailbox, field, value)
            mailbox.save(update_fields=list(serializer.validated_data))
        return Response(MailboxSerializer(mailbox).data)


class PinView(APIView):
    """Set or change my voicemail PIN (4 to 8 digits), asked when I call my voicemail."""

    permission_classes = [IsCompanyMember]

    @extend_schema(request=PinSerializer, responses={204: OpenApiResponse(description="PIN changed.")})
    def post(self, request: Request) -> Response:
        serializer = PinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        mailbox: Mailbox = actions.ensure_mailbox(user=_user(request))
        try:
            actions.set_pin(mailbox=mailbox, pin=serializer.validated_data["pin"])
        except DjangoValidationError as error:
            raise ValidationError({"pin": error.messages}) from error
        response = Response(status=status.HTTP_204_NO_CONTENT)
        response["Cache-Control"] = "no-store"
        return response


class UserViewSet(telephony_views.UserViewSet):
    """The API's users (`telephony.api.views.UserViewSet`), each created with a voicemail box."""

    def create_user(self, **fields: Any) -> tuple[User, SipCredentials | None]:
        return actions.create_user_with_mailbox(**fields)
