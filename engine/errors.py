"""Errors the engine raises. Each carries a message a person can act on."""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class ProcessInvalid(EngineError):
    """A process package failed validation; ``problems`` lists every finding."""

    def __init__(self, key: str, problems: list[str], findings: list | None = None):
        self.key = key
        self.problems = problems
        self.findings = findings or []  # engine.findings.Finding, with file and line
        super().__init__(f"Process {key!r} is invalid: " + "; ".join(problems))


class ScriptRefused(EngineError):
    """A script or expression uses something the sandbox does not allow."""


class ScriptStopped(EngineError):
    """A script was stopped at a limit of the sandbox: time, memory or the size of a value."""


class ScriptFailed(EngineError):
    """A script, condition or timer expression raised while the instance ran."""

    def __init__(self, element_id: str, message: str):
        self.element_id = element_id
        if len(message) > 500:  # a script can raise an error of any length
            message = message[:500] + "…"
        super().__init__(f"{element_id}: {message}")


class TaskNotReady(EngineError):
    """The task is not (or no longer) ready to be completed."""


class StateVersionUnsupported(EngineError):
    """Stored state was written by a serializer this build cannot read."""


class MigrationRefused(EngineError):
    """An instance cannot move to another version; ``reasons`` has one sentence per cause,
    each naming the element."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__(" ".join(self.reasons))


class HandBackUnavailable(EngineError):
    """The task's diagram gives it no way back (no ``hand_back`` message boundary event)."""
