"""The REST API of a company's telephony.

Every queryset starts from the requesting user's company, so another company's objects answer 404.
Users read their company's directory (users, extensions, sites), speed dials, public numbers and
routing policy, but only their own phones, calls, call settings and forwarding rules; a company admin
reads all of the company's and alone changes its routing and sites. Writes go through
the modules of telephony.actions.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from directory.api.permissions import IsCompanyMember
from directory.models import Company, Site, User
from telephony.actions import call_settings as call_settings_actions
from telephony.actions import devices as device_actions
from telephony.actions import dial_plan as dial_plan_actions
from telephony.actions import forwarding as forwarding_actions
from telephony.actions import sites as site_actions
from telephony.actions import users as user_actions
from telephony.actions.devices import SipCredentials
from telephony.choices import CallState, DeviceKind
from telephony.models import BarringRule, Call, Device, Extension, ForwardingRule, PhoneNumber, SpeedDial

from .permissions import IsCompanyAdmin, IsCompanyAdminOrReadOnly, IsOwnerOrCompanyAdmin
from .serializers import (
    BarringRuleSerializer,
    CallSerializer,
    CallSettingsSerializer,
    CompanyRoutingSerializer,
    CreatedUserSerializer,
    DeviceSerializer,
    ExtensionSerializer,
    ForwardingRuleSerializer,
    MeSerializer,
    MoveSerializer,
    PhoneNumberSerializer,
    RemoteTerminalSerializer,
    SiteSerializer,
    SpeedDialSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserSiteSerializer,
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
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet[User]
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

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return UserCreateSerializer if self.action == "create" else UserSerializer

    def create_user(self, **fields: Any) -> tuple[User, SipCredentials | None]:
        """The write behind POST (`telephony.actions.users.create_user`); the API mounts voicemail's
        subclass, which gives the new user a mailbox too."""
        return user_actions.create_user(**fields)

    @extend_schema(request=UserCreateSerializer, responses={201: CreatedUserSerializer})
    def create(self, request: Request) -> Response:
        """Create a user; the response carries the SIP password of their phone, the only time it is shown."""
        serializer = UserCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        company = _user(request).company
        assert company is not None
        try:
            user, credentials = self.create_user(
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

    @extend_schema(request=UserSiteSerializer, responses={200: UserSerializer})
    @action(detail=True, methods=["put"], url_path="site")
    def site(self, request: Request, pk: str | None = None) -> Response:
        """Assign the user to a site of the company, or to none (null); admins only."""
        user = self.get_object()
        serializer = UserSiteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        try:
            site_actions.set_user_site(user=user, site=serializer.validated_data["site"])
        except DjangoValidationError as error:
            raise _action_error(error) from error
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data)


class ExtensionViewSet(viewsets.ReadOnlyModelViewSet[Extension]):
    """The company's extension plan."""

    permission_classes = [IsCompanyMember]
    queryset = Extension.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = ExtensionSerializer

    def get_queryset(self) -> QuerySet[Extension]:
        return Extension.objects.for_company(_company_id(self.request)).select_related("user")


class DeviceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet[Device]
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

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        device = serializer.instance
        assert isinstance(device, Device)
        try:
            serializer.instance = device_actions.update_device(device=device, **serializer.validated_data)
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
class CallViewSet(viewsets.ReadOnlyModelViewSet[Call]):
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


# --- A user's own call settings, forwarding rules and remote terminals -------------------------------


class MySettingsView(APIView):
    """My call settings: DND, presence, home and mobile numbers, the number outside callees see, my
    black or white list. A PATCH changes what it names and tells my browsers (like *8 on a phone)."""

    permission_classes = [IsCompanyMember]

    def _serializer(self, request: Request, *args: Any, **kwargs: Any) -> CallSettingsSerializer:
        return CallSettingsSerializer(*args, context={"request": request}, **kwargs)

    @extend_schema(responses=CallSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(
            self._serializer(request, call_settings_actions.call_settings_for(_user(request))).data
        )

    @extend_schema(request=CallSettingsSerializer, responses=CallSettingsSerializer)
    def patch(self, request: Request) -> Response:
        user = _user(request)
        call_settings = call_settings_actions.call_settings_for(user)
        serializer = self._serializer(request, call_settings, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            call_settings = call_settings_actions.update_call_settings(user=user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise _action_error(error) from error
        return Response(self._serializer(request, call_settings).data)


class ForwardingRuleViewSet(viewsets.ModelViewSet[ForwardingRule]):
    """My forwarding rules, in the order they are tried. Among rules of one condition that match a
    call, the first wins; POST move/ with {"direction": "up"} to change the order."""

    permission_classes = [IsCompanyMember]
    queryset = ForwardingRule.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = ForwardingRuleSerializer

    def get_queryset(self) -> QuerySet[ForwardingRule]:
        return (
            ForwardingRule.objects.filter(user=_user(self.request))
            .select_related("user__company__receptionist", "user__extension")
            .order_by("position", "id")
        )

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        try:
            serializer.instance = forwarding_actions.create_forwarding_rule(
                user=_user(self.request), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        rule = serializer.instance
        assert isinstance(rule, ForwardingRule)
        try:
            serializer.instance = forwarding_actions.update_forwarding_rule(
                rule=rule, **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_destroy(self, instance: ForwardingRule) -> None:
        forwarding_actions.delete_forwarding_rule(rule=instance)

    @extend_schema(request=MoveSerializer, responses=ForwardingRuleSerializer(many=True))
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Swap the rule with the one before (up) or after it (down); answers the rules in their new order."""
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        up = serializer.validated_data["direction"] == "up"
        forwarding_actions.move_forwarding_rule(rule=self.get_object(), up=up)
        return Response(ForwardingRuleSerializer(self.get_queryset(), many=True).data)


class RemoteTerminalViewSet(viewsets.ModelViewSet[Device]):
    """My remote terminals: outside numbers that ring with my phones (A6, A7)."""

    permission_classes = [IsCompanyMember]
    queryset = Device.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = RemoteTerminalSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Device]:
        remote = Device.objects.filter(user=_user(self.request), kind=DeviceKind.REMOTE)
        return remote.order_by("ring_delay", "id")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = call_settings_actions.add_remote_terminal(
                user=_user(self.request),
                number=data["number"],
                label=data.get("label") or _("Mobile"),
                ring_delay=data.get("ring_delay", 0),
                avoid_voicemail=data.get("avoid_voicemail", False),
                enabled=data.get("enabled", True),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        device = serializer.instance
        assert isinstance(device, Device)
        data = serializer.validated_data
        if "number" in data and data["number"] != device.number:
            refusal = _("The number of a remote terminal cannot change: add another.")
            raise ValidationError({"number": [refusal]})
        try:
            serializer.instance = call_settings_actions.update_remote_terminal(
                user=_user(self.request),
                device=device,
                label=data.get("label"),
                ring_delay=data.get("ring_delay"),
                enabled=data.get("enabled"),
                avoid_voicemail=data.get("avoid_voicemail"),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_destroy(self, instance: Device) -> None:
        call_settings_actions.delete_remote_terminal(user=_user(self.request), device=instance)


# --- A company's call routing: speed dials, barring, public numbers, policy ---------------------------


def _company(request: Request) -> Company:
    company = _user(request).company
    assert company is not None  # IsCompanyMember ran first
    return company


class SpeedDialViewSet(viewsets.ModelViewSet[SpeedDial]):
    """The company's speed dials (C3): everyone reads them, admins change them."""

    permission_classes = [IsCompanyAdminOrReadOnly]
    queryset = SpeedDial.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = SpeedDialSerializer

    def get_queryset(self) -> QuerySet[SpeedDial]:
        return SpeedDial.objects.for_company(_company_id(self.request)).order_by("short_number")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        try:
            serializer.instance = dial_plan_actions.create_speed_dial(
                company=_company(self.request), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        speed_dial = serializer.instance
        assert isinstance(speed_dial, SpeedDial)
        data = serializer.validated_data
        try:
            serializer.instance = dial_plan_actions.update_speed_dial(
                speed_dial=speed_dial,
                short_number=data.get("short_number", speed_dial.short_number),
                number=data.get("number", speed_dial.number),
                label=data.get("label", speed_dial.label),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_destroy(self, instance: SpeedDial) -> None:
        dial_plan_actions.delete_speed_dial(speed_dial=instance)


class BarringRuleViewSet(viewsets.ModelViewSet[BarringRule]):
    """The company's call barring rules (B5 incoming, C4 outgoing): its admins only."""

    permission_classes = [IsCompanyAdmin]
    queryset = BarringRule.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = BarringRuleSerializer

    def get_queryset(self) -> QuerySet[BarringRule]:
        return BarringRule.objects.for_company(_company_id(self.request)).order_by("direction", "id")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        try:
            serializer.instance = dial_plan_actions.create_barring_rule(
                company=_company(self.request), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        rule = serializer.instance
        assert isinstance(rule, BarringRule)
        data = serializer.validated_data
        try:
            serializer.instance = dial_plan_actions.update_barring_rule(
                rule=rule,
                direction=data.get("direction", rule.direction),
                number_class=data.get("number_class", rule.number_class),
                prefix=data.get("prefix", rule.prefix),
                allow=data.get("allow", rule.allow),
                user=data.get("user", rule.user),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_destroy(self, instance: BarringRule) -> None:
        dial_plan_actions.delete_barring_rule(rule=instance)


class PhoneNumberViewSet(viewsets.ModelViewSet[PhoneNumber]):
    """The company's public numbers (DIDs) and where each rings: everyone reads, admins change."""

    permission_classes = [IsCompanyAdminOrReadOnly]
    queryset = PhoneNumber.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = PhoneNumberSerializer

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.for_company(_company_id(self.request)).order_by("number")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        try:
            serializer.instance = dial_plan_actions.create_phone_number(
                company=_company(self.request), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        phone_number = serializer.instance
        assert isinstance(phone_number, PhoneNumber)
        data = serializer.validated_data
        try:
            serializer.instance = dial_plan_actions.update_phone_number(
                phone_number=phone_number,
                number=data.get("number", phone_number.number),
                destination=data.get("destination", phone_number.destination),
                user=data.get("user", phone_number.user),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_destroy(self, instance: PhoneNumber) -> None:
        dial_plan_actions.delete_phone_number(phone_number=instance)


class SiteViewSet(viewsets.ModelViewSet[Site]):
    """The company's sites (A1, C5): everyone of the company reads them, admins change them. A site
    is deleted only once nobody works there (409 otherwise)."""

    permission_classes = [IsCompanyAdminOrReadOnly]
    queryset = Site.objects.none()  # names the model for the schema; get_queryset() scopes it
    serializer_class = SiteSerializer

    def get_queryset(self) -> QuerySet[Site]:
        return Site.objects.filter(company_id=_company_id(self.request)).order_by("name")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        try:
            serializer.instance = site_actions.create_site(
                company=_company(self.request), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        site = serializer.instance
        assert isinstance(site, Site)
        data = serializer.validated_data
        try:
            serializer.instance = site_actions.update_site(
                site=site,
                name=data.get("name", site.name),
                timezone=data.get("timezone", site.timezone),
                main_number=data.get("main_number", site.main_number),
                receptionist=data.get("receptionist", site.receptionist),
            )
        except DjangoValidationError as error:
            raise _action_error(error) from error

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            site_actions.delete_site(site=self.get_object())
        except DjangoValidationError as error:
            return Response({"detail": " ".join(error.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)


POLICY_FIELDS = frozenset({"outside_prefix", "country_code", "main_number", "receptionist", "bar_high_risk"})


class CompanyRoutingView(APIView):
    """The company's routing policy: outside prefix (C2), country code, company number (A4),
    receptionist, dial codes. Everyone of the company reads it; its admins PATCH it."""

    permission_classes = [IsCompanyAdminOrReadOnly]

    def _serializer(self, request: Request, *args: Any, **kwargs: Any) -> CompanyRoutingSerializer:
        return CompanyRoutingSerializer(*args, context={"request": request}, **kwargs)

    def _company(self, request: Request) -> Company:
        return Company.objects.get(pk=_company_id(request))

    @extend_schema(responses=CompanyRoutingSerializer)
    def get(self, request: Request) -> Response:
        return Response(self._serializer(request, self._company(request)).data)

    @extend_schema(request=CompanyRoutingSerializer, responses=CompanyRoutingSerializer)
    def patch(self, request: Request) -> Response:
        company = self._company(request)
        serializer = self._serializer(request, company, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            if POLICY_FIELDS & set(data):
                try:
                    dial_plan_actions.update_routing_policy(
                        company=company,
                        outside_prefix=data.get("outside_prefix", company.outside_prefix),
                        country_code=data.get("country_code", company.country_code),
                        main_number=data.get("main_number", company.main_number),
                        receptionist=data.get("receptionist", company.receptionist),
                        bar_high_risk=data.get("bar_high_risk", company.bar_high_risk),
                    )
                except DjangoValidationError as error:
                    raise _action_error(error) from error
            if "dial_codes" in data:
                codes = {**company.dial_codes, **data["dial_codes"]}
                try:
                    dial_plan_actions.set_dial_codes(company=company, codes=codes)
                except DjangoValidationError as error:
                    # Each refused code under dial_codes, named by its feature as the client sent it.
                    raise ValidationError({"dial_codes": error.message_dict}) from error
        return Response(self._serializer(request, self._company(request)).data)
