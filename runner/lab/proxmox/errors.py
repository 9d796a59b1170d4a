"""How PVE fails a request: an exception carrying status, message and per-parameter errors."""

from __future__ import annotations


class PveError(Exception):
    """`die "msg\\n"` in a PVE handler (500) or a PVE::Exception with a code and `errors`."""

    def __init__(self, message: str, status: int = 500, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message if message.endswith("\n") else message + "\n"
        self.status = status
        self.errors = errors


def param_error(errors: dict[str, str]) -> PveError:
    """PVE::Exception::raise_param_exc."""
    return PveError("Parameter verification failed.\n", 400, errors)
