"""Exceptions that carry enough context to tell a person what went wrong."""

from __future__ import annotations

from dataclasses import dataclass


class VodError(Exception):
    """Base class for every error vod raises on purpose."""


class NotFound(VodError):
    """Something asked for by slug does not exist."""

    kind = "page"

    def __init__(self, slug: str) -> None:
        super().__init__(f"no {self.kind} {slug!r}")
        self.slug = slug


class TalkNotFound(NotFound):
    kind = "talk"


class EventNotFound(NotFound):
    kind = "event"


class SpeakerNotFound(NotFound):
    kind = "speaker"


class YearNotFound(NotFound):
    kind = "year with events"


@dataclass(frozen=True)
class CatalogProblem:
    """One thing wrong in a catalog file, located precisely."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class CatalogError(VodError):
    """The catalog could not be loaded; `problems` lists every issue found."""

    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        head = "\n".join(str(p) for p in problems[:20])
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} problem(s) in the catalog:\n{head}{more}")


class StorageUnavailable(VodError):
    """The recording store could not be reached (timeout, connection refused, 5xx)."""


class IndexNotBuilt(VodError):
    """No search index exists yet under the index folder."""


class IndexDamaged(IndexNotBuilt):
    """The index's files do not match what was recorded when it was built; none can serve."""


class QueryError(VodError):
    """A search query that cannot be run; the message is safe to show to the user."""


class ConfigError(VodError):
    """A setting has a value vod cannot use; the message names the variable."""
