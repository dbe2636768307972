"""Domain errors: one hierarchy, mapped to HTTP in one place (api/errors.py). No HTTP imports."""

from __future__ import annotations

from typing import Any


class MeterlyError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(MeterlyError):
    code = "invalid_input"
    status = 422


class NotFound(MeterlyError):
    code = "not_found"
    status = 404


class Conflict(MeterlyError):
    code = "conflict"
    status = 409


class Forbidden(MeterlyError):
    code = "forbidden"
    status = 403


class Unauthorized(MeterlyError):
    code = "unauthorized"
    status = 401


class TooLarge(MeterlyError):
    code = "payload_too_large"
    status = 413


class BadRequest(MeterlyError):
    code = "bad_request"
    status = 400
