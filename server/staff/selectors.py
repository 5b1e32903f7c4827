"""Reads of the roster: who holds a role, their trade, whether they are on duty and how
many open jobs they hold; and the forms' staff pickers (``x-lookup: staff``) filled from it.

A form names the role it picks from (``"x-lookup": "staff", "x-role": "technician"``); the
schema a client or a page sees, and the one a submission is checked against, carry the
role's active holders as the field's ``enum`` (usernames), each titled in both languages
with the person's name, trade, duty and open jobs, and ``x-staff`` with the same facts as
data. The stored package never changes: the choices are today's roster.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

from django.contrib.auth.models import User
from django.db.models import Count

from server.flows.models import HumanTask

from .models import TRADE_NAMES

LOOKUP = "staff"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str  # in Chinese, as colleagues say it (the username when none is recorded)
    name_en: str
    roles: tuple[str, ...]
    trade: str  # a key of models.Trade, "" for none
    phone: str
    on_duty: bool
    open_jobs: int  # open tasks assigned to them

    def title(self) -> list[str]:
        """The picker's line, [Chinese, English]: 王建国 · 水电 · 在岗 · 2 单未完成."""
        zh_trade, en_trade = TRADE_NAMES.get(self.trade, ("", ""))
        zh = [self.name, zh_trade, "在岗" if self.on_duty else "休息",
              f"{self.open_jobs} 单未完成"]  # fmt: skip
        jobs = f"{self.open_jobs} open job{'s' if self.open_jobs != 1 else ''}"
        en = [self.name_en, en_trade, "on duty" if self.on_duty else "off duty", jobs]
        return [" · ".join(p for p in zh if p), " · ".join(p for p in en if p)]


def roster(*, role: str | None = None) -> list[Member]:
    """Active staff (holders of ``role``, or of any role), on duty first, then by open jobs
    and name: two queries whatever their number."""
    users = User.objects.filter(is_active=True, groups__isnull=False)
    if role:
        users = users.filter(groups__name=role)
    users = (
        users.distinct().select_related("staff_profile").prefetch_related("groups")
        .order_by("username")
    )  # fmt: skip
    users = list(users)
    jobs = dict(
        HumanTask.objects.filter(status=HumanTask.Status.OPEN, assignee__in=[u.pk for u in users])
        .values_list("assignee").annotate(n=Count("id"))
    )  # fmt: skip
    members = [_member(u, jobs.get(u.pk, 0)) for u in users]
    members.sort(key=lambda m: (not m.on_duty, m.open_jobs, m.name))
    return members


def _member(user: User, open_jobs: int) -> Member:
    profile = getattr(user, "staff_profile", None)
    name = (profile.display_name if profile else "") or user.get_full_name() or user.username
    return Member(
        id=user.pk, username=user.username, name=name,
        name_en=(profile.display_name_en if profile else "") or name,
        roles=tuple(sorted(g.name for g in user.groups.all())),
        trade=profile.trade if profile else "", phone=profile.phone if profile else "",
        on_duty=profile.on_duty if profile else True, open_jobs=open_jobs,
    )  # fmt: skip


def member_get(*, username: str) -> Member | None:
    user = (
        User.objects.filter(username=username, is_active=True)
        .select_related("staff_profile").prefetch_related("groups").first()
    )  # fmt: skip
    if user is None:
        return None
    jobs = HumanTask.objects.filter(status=HumanTask.Status.OPEN, assignee=user).count()
    return _member(user, jobs)


def _pickers(schema: dict):
    """Every ``x-lookup: staff`` node of ``schema`` (top level and nested objects)."""
    for node in (schema.get("properties") or {}).values():
        if not isinstance(node, dict):
            continue
        if node.get("x-lookup") == LOOKUP:
            yield node
        elif node.get("type") == "object":
            yield from _pickers(node)


def with_choices(schema: dict | None) -> dict | None:
    """``schema`` with each staff picker's choices filled from today's roster; the schema
    itself (the package's) when it has none, at no query."""
    if not schema or not any(True for _ in _pickers(schema)):
        return schema
    schema = copy.deepcopy(schema)
    by_role: dict[str, list[Member]] = {}
    for node in _pickers(schema):
        role = str(node.get("x-role") or "")
        members = by_role.get(role)
        if members is None:
            members = by_role[role] = roster(role=role or None)
        node["enum"] = [m.username for m in members]
        node["x-enum-titles"] = {m.username: m.title() for m in members}
        node["x-staff"] = [asdict(m) for m in members]
    return schema


def holders(usernames, role: str) -> dict[str, User]:
    """The active users among ``usernames`` who hold ``role``: one query."""
    if not usernames:
        return {}
    found = User.objects.filter(username__in=set(usernames), is_active=True, groups__name=role)
    return {u.username: u for u in found}
