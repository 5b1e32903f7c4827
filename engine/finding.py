"""What validation and import found in a package: one sentence each, where it is."""

from __future__ import annotations

from dataclasses import dataclass


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

    def __str__(self) -> str:
        where = self.element or self.file
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "element": self.element,
                "message": self.message}  # fmt: skip

    def placed(self, places: dict[str, tuple[str, int]], default_file: str | None):
        """The same finding with its file and line filled in from ``places`` (id -> where)."""
        file, line = places.get(self.element or "", (self.file or default_file, self.line))
        return Finding(self.message, self.element, self.file or file, self.line or line,
                       self.warning)  # fmt: skip


def problem(element: str | None, message: str, file: str | None = None) -> Finding:
    return Finding(message, element, file)


def warning(element: str | None, message: str, file: str | None = None) -> Finding:
    return Finding(message, element, file, warning=True)
