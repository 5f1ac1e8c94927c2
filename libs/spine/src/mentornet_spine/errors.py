"""Domain refusals every service raises; the messages are Russian because people read them.

Plain exceptions (no framework), so domain code may raise them; ``install_command_errors`` maps
them to HTTP.
"""


class DomainError(Exception):
    """A command that the current state does not allow (HTTP 409)."""


class InvalidCommand(ValueError):
    """A command that is wrong in itself (HTTP 422); ``field`` names what to fix."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
