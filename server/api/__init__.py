"""The REST API under ``/api/``: one module per resource, one class per operation.

Each operation's serializers both check what comes in (query parameters, body) and say what
goes out, and drf-spectacular builds the OpenAPI document (``/api/schema/``) from the same
classes, so the contract is written once. Views validate, call one service or selector and
serialize what it hands back. Every list answers ``{count, page, pages, results}``; every
error ``{"detail": ..., "errors": {field: [messages]}}`` in the reader's language.
"""
