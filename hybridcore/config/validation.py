"""How a specification is checked: pydantic dataclasses that forbid unknown fields, and
their errors as one line naming each field, its value and what is allowed."""

from __future__ import annotations

from pydantic import ConfigDict, ValidationError

SPEC_CONFIG = ConfigDict(extra="forbid")


class SpecError(ValueError):
    """A run specification that cannot run: one line naming each field, its value and what is allowed."""


def spec_problem(err: ValidationError) -> str:
    """A pydantic error about a spec as one line: ``Class field.path: value: what is allowed``."""
    parts = []
    for e in err.errors(include_url=False):
        where = ".".join(str(x) for x in e["loc"]) or "(the whole spec)"
        message = "unknown field" if e["type"] == "unexpected_keyword_argument" else e["msg"]
        parts.append(f"{where} = {e['input']!r}: {message.removeprefix('Value error, ')}")
    return f"{err.title}: " + "; ".join(parts)
