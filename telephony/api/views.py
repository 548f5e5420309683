"""The REST API of a company's telephony.

Every queryset starts from the requesting user's company, so another company's objects answer 404.
Users read their company's directory (users, extensions) but only their own phones and calls; a
company admin reads all of the company's. Writes go through telephony.actions.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from directory.models import User
from telephony import actions
from telephony.choices import CallState
from telephony.models import Call, Device, Extension

from .permissions import IsCompanyAdminOrReadOnly, IsCompanyMember, IsOwnerOrCompanyAdmin
from .serializers import (
    CallSerializer,
    CreatedUserSerializer,
    DeviceSerializer,
    ExtensionSerializer,
    MeSerializer,
    UserCreateSerializer,
    UserSerializer,
)

DIRECTIONS = ("placed", "received", "missed")


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # IsCompanyMember ran first
    return user


def _company_id(request: Request) -> int:
    company_id = _user(request).company_id
    assert company_id is not None  # IsCompanyMember ran first
    return company_id


def _action_error(error: DjangoValidationError) -> ValidationError:
    """An action's refusal as a 400, field by field when the action named fields."""
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


class UserViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The company's directory; an admin creates users (with an extension and one SIP phone)."""

    permission_classes = [IsCompanyAdminOrReadOnly]
    queryset = User.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[User]:
        return (
            User.objects.filter(company_id=_company_id(self.request))
            .select_related("extension")
            .order_by("username")
        )

    def get_serializer_class(self) -> type[BaseSerializer]:
        return UserCreateSerializer if self.action == "create" else UserSerializer

    @extend_schema(request=UserCreateSerializer, responses={201: CreatedUserSerializer})
    def create(self, request: Request) -> Response:
        """Create a user; the response carries the SIP password of their phone, the only time it is shown."""
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        company = _user(request).company
        assert company is not None
        try:
            user, credentials = actions.create_user(
                company=company,
                username=data["username"],
                extension=data["extension"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                language=data["language"],
                password=data["password"] or None,
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error
        user = self.get_queryset().get(pk=user.pk)
        user.sip_credentials = credentials  # type: ignore[attr-defined]
        response = Response(CreatedUserSerializer(user).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # it holds a password no one will see again
        return response


class ExtensionViewSet(viewsets.ReadOnlyModelViewSet):
    """The company's extension plan."""

    permission_classes = [IsCompanyMember]
    queryset = Extension.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = ExtensionSerializer

    def get_queryset(self) -> QuerySet[Extension]:
        return Extension.objects.for_company(_company_id(self.request)).select_related("user")


class DeviceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """SIP phones: a user's own, or all of the company's for an admin. PATCH label, ring_delay, enabled."""

    permission_classes = [IsOwnerOrCompanyAdmin]
    queryset = Device.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = DeviceSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Device]:
        user = _user(self.request)
        devices = Device.objects.for_company(_company_id(self.request)).select_related("user")
        return devices if user.is_company_admin else devices.filter(user=user)

    def perform_update(self, serializer: BaseSerializer) -> None:
        device = serializer.instance
        assert isinstance(device, Device)
        try:
            serializer.instance = actions.update_device(device=device, **serializer.validated_data)
        except DjangoValidationError as error:
            raise _action_error(error) from error


@extend_schema(
    parameters=[
        OpenApiParameter(
            "direction", OpenApiTypes.STR, enum=list(DIRECTIONS),
            description="placed, received or missed, from the requesting user's side.",
        )
    ]
)  # fmt: skip
class CallViewSet(viewsets.ReadOnlyModelViewSet):
    """Call history (ended calls), newest first: the user's own, or all of the company's for an admin."""

    permission_classes = [IsCompanyMember]
    queryset = Call.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = CallSerializer

    def get_queryset(self) -> QuerySet[Call]:
        user = _user(self.request)
        calls = Call.objects.for_company(_company_id(self.request)).filter(state=CallState.ENDED)
        if not user.is_company_admin:
            calls = calls.involving(user.pk)
        if self.action == "list":
            return self._filter_direction(calls, user).order_by("-started_at")
        return calls

    def _filter_direction(self, calls: QuerySet[Call], user: User) -> QuerySet[Call]:
        direction = self.request.query_params.get("direction")
        if not direction:
            return calls
        if direction not in DIRECTIONS:
            raise ValidationError({"direction": [_("Choose placed, received or missed.")]})
        if direction == "placed":
            return calls.filter(caller_user=user)
        # Mirrors Call.direction_for: a call to oneself counts as placed.
        received = calls.filter(callee_user=user).exclude(caller_user=user)
        if direction == "received":
            return received.filter(answered_at__isnull=False)
        return received.filter(answered_at__isnull=True)


class MeView(APIView):
    """The requesting user, their company and their own phones."""

    permission_classes = [IsCompanyMember]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = (
            User.objects.select_related("company", "extension")
            .prefetch_related("devices__user")
            .get(pk=_user(request).pk)
        )
        return Response(MeSerializer(user).data)
