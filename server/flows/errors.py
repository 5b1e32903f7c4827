"""Errors services raise; the API turns each into one HTTP status and a clear message."""


class ServiceError(Exception):
    status_code = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(ServiceError):
    status_code = 400


class Forbidden(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class ProcessFailed(ServiceError):
    """The process definition itself failed (a script raised): nothing was changed."""

    status_code = 422
