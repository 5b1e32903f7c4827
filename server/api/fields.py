"""Serializer fields the API's operations share: ids as the database stores them, query
parameters as strictly as they are declared, times and names as the answers give them."""

from __future__ import annotations

from datetime import UTC

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from engine.roles import ROLE_KEYS
from server.desk.models import HotlineCall, ShiftCheck, ShiftCheckItem
from server.flows.models import HumanTask, ProcessInstance

# The choice sets that appear under more than one field or component, named once each in
# settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].
ROLES = sorted(ROLE_KEYS)
TASK_STATUSES = HumanTask.Status.values
INSTANCE_STATUSES = ProcessInstance.Status.values
CALL_KINDS = HotlineCall.Kind.values
SHIFT_CHECK_STATUSES = ShiftCheck.Status.values
SHIFT_CHECK_ITEM_KINDS = ShiftCheckItem.Kind.values

INT64_MAX = 2**63 - 1  # ids are bigints: anything larger could never name a row


class Int64Field(serializers.IntegerField):
    """A positive id in a JSON body: a JSON integer only (not ``"5"``, ``5.0`` or ``true``,
    which DRF's own field would take), declared and checked as 1 to 2^63-1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class _NoNul:
    """Text without NUL characters, declared as a ``pattern`` (drf-spectacular reads it from
    the validator) and refused with DRF's own words, in place of DRF's undeclared check.

    The pattern wants one character at least: where blank is allowed, drf-spectacular
    declares ``oneOf`` it and a blank string, and ``""`` must match only one of the two."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        self.validators.append(NO_NUL)


NO_NUL = RegexValidator(
    r"^[^\x00]+$", message=ProhibitNullCharactersValidator.message, code="null_characters"
)


class TextField(_NoNul, serializers.CharField):
    """Text in a JSON body: a JSON string only (DRF's own field turns ``5`` into ``"5"``)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _AsSent:
    """A query parameter's value as sent. DRF reads a query string as an HTML form, where an
    empty value means "left out"; here ``?scope=`` is a value, and not a declared one."""

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class QueryIntegerField(_AsSent, serializers.IntegerField):
    """A whole number in a query string: ASCII digits only (DRF's field would also take
    ``1.0``, `` 5`` and other scripts' digits, which the document does not declare)."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii() and data.isdigit()):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryDateField(_AsSent, serializers.DateField):
    """A day in a query string, ``YYYY-MM-DD`` in ASCII digits; an empty value is refused."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and data.isascii()):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.BOOL)
class FlagField(_AsSent, serializers.BooleanField):
    """A yes/no query parameter: ``true``/``1`` or ``false``/``0``; left out, no. An empty
    value is refused like any other word: it is not one of the declared values."""

    default_error_messages = {"invalid": _("Must be 1, true, 0 or false.")}
    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def __init__(self, **kwargs):
        kwargs.setdefault("default", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data in self.WORDS:
            return self.WORDS[data]
        self.fail("invalid", input=data)


class QueryChoiceField(_AsSent, serializers.ChoiceField):
    """One of a query parameter's declared values."""


class QueryTextField(_AsSent, _NoNul, serializers.CharField):
    """Free text in a query string (a filter or a search), trimmed, at most 100 characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)


class TimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with its offset (``2026-11-23T01:10:00+00:00``), as the API always
    answered: DRF's own field would turn it into the site's time zone or end it with ``Z``."""

    def to_representation(self, value):
        return value.astimezone(UTC).isoformat()


class NamesSerializer(serializers.Serializer):
    """A name in each language."""

    class Meta:
        ref_name = "Names"

    def get_fields(self):
        return {"zh-hans": serializers.CharField(), "en": serializers.CharField()}


@extend_schema_field(NamesSerializer)
class NamesField(serializers.Field):
    """A ``{"zh-hans": ..., "en": ...}`` mapping from a process manifest, as it is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return dict(value)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    username = serializers.CharField()

    class Meta:
        ref_name = "UserRef"


class ReasonSerializer(serializers.Serializer):
    """Why (a cancellation, a suspension, a hand-back): recorded as given; only a reason of
    nothing but spaces is refused."""

    reason = TextField(trim_whitespace=False, help_text="Why (recorded in the audit trail).")

    class Meta:
        ref_name = "Reason"

    def validate_reason(self, reason: str) -> str:
        if not reason.strip():
            raise serializers.ValidationError(self.fields["reason"].error_messages["blank"])
        return reason
