from __future__ import annotations


class ServiceError(Exception):
    """A use case refused its input. ``message`` is shown to the clerk (already translated);
    ``field`` names the form field it belongs to, if any. Nothing has been written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
