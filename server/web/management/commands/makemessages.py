"""Django's makemessages, also reading ``T("...")``: the engine marks English templates
(findings, rehearsal outcomes) with ``gettext_noop`` or that short alias of it, and has no
gettext of its own; the server translates them."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=T"]
