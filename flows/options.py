"""Command-line options generated from the run specification's dataclasses.

Each field of ``TrainConfig``, ``EncoderSettings`` (and ``RunSpec``) declares its default and
its help text once (``hybridcore.config.spec.option``); ``spec_options`` adds one option per
field to a typer command, as Tevatron's ``HfArgumentParser`` does with its dataclass arguments,
so a new field is on the command line without another edit and help is written once.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import MISSING, fields
from typing import Any, Literal, Optional, get_args, get_origin, get_type_hints

import typer


def _cli_type(hint: Any) -> tuple[Any, str]:
    """A type typer can parse, and the choices to name in the help (a ``Literal`` becomes
    ``str``; the value is checked where the spec is built)."""
    optional = get_origin(hint) in (typing.Union, types.UnionType) and type(None) in get_args(hint)
    inner = next(a for a in get_args(hint) if a is not type(None)) if optional else hint
    choices = ""
    if get_origin(inner) is tuple and get_args(inner)[-1:] == (Ellipsis,):  # repeated: --flag 0.25 --flag 0.5
        return typing.List[_cli_type(get_args(inner)[0])[0]], " (repeat the option for each value)"  # noqa: UP006 - typer
    if get_origin(inner) is Literal:
        choices, inner = " (" + ", ".join(map(str, get_args(inner))) + ")", str
    return (Optional[inner] if optional else inner), choices  # noqa: UP045 - typer needs Optional


def spec_options(
    group: str, cls: type, *, only: Iterable[str] | None = None, skip: Iterable[str] = (), profile_default: bool = False
) -> Callable:
    """Add an option per field of dataclass ``cls`` to a command, and hand the command the
    given values as ``<group>: dict`` (field name -> value). ``profile_default``: every
    option defaults to None, meaning "the profile's", and only the options given are handed on."""
    hints = get_type_hints(cls)
    wanted = [
        f for f in fields(cls) if (only is None or f.name in only) and f.name not in set(skip) and "help" in f.metadata
    ]

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)  # typer reads the Annotated options
        params = [p for p in signature.parameters.values() if p.name != group]
        taken = {p.name for p in params}
        added = []
        for f in wanted:
            if f.name in taken:
                raise TypeError(f"{command.__name__}: option {f.name} is both a parameter and a {cls.__name__} field")
            kind, choices = _cli_type(hints[f.name])
            flag = f"--{f.name.replace('_', '-')}"
            flags = (f"{flag}/--no-{flag[2:]}",) if kind is bool else (flag, *f.metadata.get("flags", ()))
            default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
            if profile_default:
                kind = Optional[kind] if get_origin(kind) is not typing.Union else kind  # noqa: UP045
                help_text, default = f"{f.metadata['help']}{choices} Default: the profile's ({default!r}).", None
            else:
                help_text = f"{f.metadata['help']}{choices}"
            option = typer.Option(default, *flags, help=help_text, rich_help_panel=cls.__name__)
            added.append(f.name)
            params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=kind))

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in added}
            if profile_default:
                values = {name: value for name, value in values.items() if value is not None}
            return command(**kwargs, **{group: values})

        ordered = sorted(params, key=lambda p: p.kind)  # keyword-only after the command's own
        wrapper.__signature__ = signature.replace(parameters=ordered)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in ordered}
        return wrapper

    return decorate
