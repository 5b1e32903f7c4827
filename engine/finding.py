"""What validation and import found in a package: one sentence each, where it is.

A finding made with :func:`say` keeps its English template and parameters, so the server
can put it in the reader's language (the templates are marked for the catalogue with
:func:`engine.text.gettext_noop`); the others (the sandbox's and SpiffWorkflow's own
words) read the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .text import render

TRANSLATED = frozenset({"kind"})  # parameters that are themselves marked English words


@dataclass(frozen=True)
class Finding:
    """A problem (the package may not be deployed) or a warning (it may, and this was
    ignored or assumed). ``element`` is the BPMN id, ``file`` the package file, ``line``
    the element's line in that file when it is known."""

    message: str
    element: str | None = None
    file: str | None = None
    line: int | None = None
    warning: bool = False
    template: str | None = field(default=None, compare=False)
    params: dict = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = self.element or self.file
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self, translate=None) -> dict:
        """``translate``: a gettext, for the message in the reader's language."""
        return {"file": self.file, "line": self.line, "element": self.element,
                "message": self.text(translate)}  # fmt: skip

    def text(self, translate=None) -> str:
        if translate is None or self.template is None:
            return self.message
        params = {
            k: render(v, translate) if isinstance(v, tuple)
            else translate(v) if k in TRANSLATED and isinstance(v, str) else v
            for k, v in self.params.items()
        }  # fmt: skip
        try:
            return translate(self.template) % params
        except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit
            return self.message

    def placed(self, places: dict[str, tuple[str, int]], default_file: str | None):
        """The same finding with its file and line filled in from ``places`` (id -> where)."""
        file, line = places.get(self.element or "", (self.file or default_file, self.line))
        return Finding(self.message, self.element, self.file or file, self.line or line,
                       self.warning, self.template, self.params)  # fmt: skip


def say(element: str | None, template: str, file: str | None = None, warning: bool = False,
        **params) -> Finding:  # fmt: skip
    """A finding from an English ``template`` (``%(name)s`` placeholders) and its values
    (a value may be a phrase, see :func:`engine.text.render`)."""
    message = render((template, params))
    return Finding(message, element, file, None, warning, template, params)


def problem(element: str | None, message: str, file: str | None = None) -> Finding:
    return Finding(message, element, file)


def warning(element: str | None, message: str, file: str | None = None) -> Finding:
    return Finding(message, element, file, warning=True)
