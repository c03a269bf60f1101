"""Exception classes: one base class, one subclass per kind of problem the user can fix."""

from __future__ import annotations


class CirclesError(Exception):
    """Base class of every error circles raises on purpose.

    The CLI turns these into a one-line message and exit code 2; anything else is a bug (exit 3).
    """


class RuleError(CirclesError, ValueError):
    """A rule file is unreadable, invalid against the schema, or meaningless.

    Parameters
    ----------
    problems
        One line per problem, each ``path:line:col: entity: message``.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class InputDataError(CirclesError, ValueError):
    """An input layer (network, facilities, residents, communities) cannot be used as given."""


class NetworkError(CirclesError, ValueError):
    """The street network cannot be built from the input."""


class OutputError(CirclesError, OSError):
    """The report cannot be written where asked."""


class ProjectFileError(CirclesError, ValueError):
    """The project file (``circles.yaml``) is unreadable or names unknown keys."""


class ManifestError(ProjectFileError):
    """A batch manifest (``circles batch MANIFEST.yaml``) is unreadable or inconsistent."""
