"""The project's one exception tree.

Third-party errors (pandas, SQLAlchemy, PuLP, ...) are translated into these at the boundary where
they arise, so the CLI and the API can map each class to one exit message / HTTP status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "CancelledError",
    "ConflictError",
    "InfeasibleError",
    "InvalidInputError",
    "NotFittedError",
    "NotFoundError",
    "OptimizerError",
    "PermissionDeniedError",
    "RowIssue",
    "SolverError",
    "StoreUnavailableError",
    "TooLargeError",
]


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One problem with one row of an uploaded file, in words a marketer understands."""

    line: int
    column: str | None
    value: str | None
    message: str
    severity: str = "error"

    def describe(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f" (value '{_clip(self.value)}')"
        return f"{where}{shown}: {self.message}"


def _clip(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


class OptimizerError(Exception):
    """Base of every error the product raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[object, ...]:
        """Picklable with every field, so an error raised in a worker process arrives whole."""
        state = {k: v for k, v in vars(self).items() if k != "message"}
        return (_rebuilt, (type(self), self.message, state))


def _rebuilt(kind: type[OptimizerError], message: str, state: dict[str, object]) -> OptimizerError:
    error = kind.__new__(kind)
    OptimizerError.__init__(error, message)
    vars(error).update(state)
    return error


class InvalidInputError(OptimizerError):
    """The caller's input is wrong; `issues` lists row-level problems when there are any."""

    def __init__(self, message: str, issues: Sequence[RowIssue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[RowIssue, ...] = tuple(issues)


class NotFoundError(OptimizerError):
    """A named account, entity, cap or recommendation does not exist (or is not visible)."""


class ConflictError(OptimizerError):
    """The request clashes with the current state (duplicate name, no approved cap, ...)."""


class PermissionDeniedError(OptimizerError):
    """The caller's role does not allow the action."""


class AuthenticationError(OptimizerError):
    """No credentials, or credentials that match no active key."""


class InfeasibleError(OptimizerError):
    """No allocation satisfies every constraint; `conflicts` names the ones that clash."""

    def __init__(self, message: str, conflicts: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.conflicts: tuple[str, ...] = tuple(conflicts)


class NotFittedError(OptimizerError, ValueError, AttributeError):
    """An estimator was used before `fit` (a ValueError/AttributeError too, for scikit-learn)."""


class SolverError(OptimizerError):
    """The LP solver failed for a reason other than infeasibility."""


class TooLargeError(OptimizerError):
    """The work asked for is over a documented limit (rows per upload, entities per account);
    refused before it starts."""


class CancelledError(OptimizerError):
    """The caller went away, so the work stopped early and stored nothing."""


class StoreUnavailableError(OptimizerError):
    """The database cannot be reached right now; retrying later may succeed."""

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
