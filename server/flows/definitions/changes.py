"""The changes between two versions of a process in the reader's language: time limits,
roles, forms and tasks (the studio's diff page lists them above the diagrams)."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from engine.changes import Change, changes
from engine.roles import ROLES
from engine.text import pick

from .cache import get_engine
from .selectors import version_get

ROLE_NAMES = {r.key: {"zh-hans": r.name_zh, "en": r.name_en} for r in ROLES}
_DURATION = re.compile(
    r'"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?'
    r'(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"'
)
_LIMIT_CALL = re.compile(r'\b(?:deadline|reminder|limit)\("([a-z_.]+)"')


def _role(key: str | None, language: str) -> str:
    return pick(ROLE_NAMES.get(key or ""), language, key or _("no role"))


def _unit(unit: str) -> str:
    return {
        "minutes": _("minutes"), "hours": _("hours"), "days": _("days"), "weeks": _("weeks"),
        "seconds": _("seconds"), "months": _("months"), "years": _("years"),
        "working_days": _("working days"),
        "working_day_end": _("working days, to the end of the day"),
    }.get(unit, unit)  # fmt: skip


def _duration_words(match) -> str:
    return " ".join(f"{int(amount)} {_unit(unit)}"
                    for unit, amount in match.groupdict().items() if amount)  # fmt: skip


def _timer(text: str | None, language: str) -> str:
    """A timer's value, with each named time limit it uses and that limit's amount."""
    if not text:
        return _("none")
    kind, _sep, value = text.partition(": ")
    literal = _DURATION.fullmatch(value.strip())
    if literal:  # a plain duration ("PT20M"): in words
        return _duration_words(literal) or value
    limits = {limit.key: limit for limit in get_engine().limits}
    named = [w for w in map(_duration_words, _DURATION.finditer(value)) if w]
    for key in _LIMIT_CALL.findall(value):
        limit = limits.get(key)
        if limit is not None:
            name = pick({"zh-hans": limit.zh, "en": limit.en}, language, key)
            named.append(f"{name} ({limit.amount} {_unit(limit.unit)})")
    return f"{value} [{'; '.join(named)}]" if named else value


def _sentence(change: Change, language: str) -> str:
    what = f"{change.name} ({change.element})"
    if change.kind == "timer":
        return _("Time limit of %(what)s: %(old)s → %(new)s") % {
            "what": what,
            "old": _timer(change.old, language),
            "new": _timer(change.new, language),
        }
    if change.kind == "role":
        return _("%(what)s is worked by %(new)s (was %(old)s)") % {
            "what": what,
            "old": _role(change.old, language),
            "new": _role(change.new, language),
        }
    if change.kind == "form":
        return _("Form of %(what)s: %(old)s → %(new)s") % {
            "what": what,
            "old": change.old or _("none"),
            "new": change.new or _("none"),
        }
    if change.kind == "form_content":
        return _("The fields of form %(form)s (%(what)s) changed") % {
            "what": what,
            "form": change.new,
        }
    if change.kind == "task_added":
        return _("New task %(what)s, for %(role)s") % {
            "what": what,
            "role": _role(change.new, language),
        }
    return _("Task %(what)s is gone") % {"what": what}


def version_changes(*, key: str, a: int, b: int, language: str) -> list[str]:
    old = version_get(key=key, version=a).source
    new = version_get(key=key, version=b).source
    return [_sentence(change, language) for change in changes(old, new)]
