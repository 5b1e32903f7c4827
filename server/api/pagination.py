"""Every list answers one page: ``{count, page, pages, results}``.

``page`` and ``page_size`` are declared and checked by :class:`PageQuery`, with the same
bounds; a page past the last is refused (400) naming the last one.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.utils.translation import gettext as _
from rest_framework import serializers

from server.flows.errors import Invalid

from .fields import QueryIntegerField

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_PAGE = 2**31 - 1


class PageQuery(serializers.Serializer):
    """The query parameters of every list; a list's own filters extend it."""

    page = QueryIntegerField(
        min_value=1, max_value=MAX_PAGE, default=1,
        help_text="The page, from 1 (the default) to `pages`; past the last one is a 400.",
    )  # fmt: skip
    page_size = QueryIntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE,
        help_text=f"Rows a page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE}).",
    )  # fmt: skip


def paginate(found, query: dict) -> Page:
    """The page of ``found`` (a queryset or a list) that the validated ``query`` asks for."""
    paginator = Paginator(found, query["page_size"])
    number, last = query["page"], paginator.num_pages
    if number > last:
        raise Invalid(
            _("There is no page %(page)s: the last is %(last)s.") % {"page": number, "last": last},
            {"page": [_("Must be a page from 1 to %(last)s.") % {"last": last}]},
        )
    return paginator.page(number)


class PageSerializer(serializers.Serializer):
    """One page of a list."""

    # Serializes a Django Page: its paginator counts, its object_list is the results.

    count = serializers.IntegerField(
        source="paginator.count", help_text="Rows matching, on all pages."
    )
    page = serializers.IntegerField(source="number")
    pages = serializers.IntegerField(source="paginator.num_pages", help_text="At least 1.")


def page_of(item, name: str, base=PageSerializer):
    """The page serializer (component ``{name}Page``) whose results are ``item``s."""
    meta = type("Meta", (), {"ref_name": f"{name}Page"})
    attrs = {"results": item(many=True, source="object_list"), "Meta": meta}
    return type(f"{name}PageSerializer", (base,), attrs)
