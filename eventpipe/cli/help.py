"""How ``eventpipe ... --help`` names values, arguments and line breaks, for every command at once.

Typer (0.29, which carries its own copy of Click) renders help by its own rules, which read badly:

- values by their Python type in angle brackets: ``<int>``, ``<int range>``, ``<str>``, ``<path>``;
- a type even for flags, which take no value: ``--json <bool>``, ``--help <bool>`` (``--json true``
  is an error);
- a required argument as ``{name}`` in the usage line;
- in its default Rich markup mode, every single line break of a wrapped docstring as a line break,
  so that help text stops mid-sentence and goes on in the next line.

:func:`use_help_style` gives every command and sub-app of the ``eventpipe`` app the classes below
(through Typer's ``cls`` hook, before Typer builds them), and they render help the way Click's own
commands do: ``INTEGER``, ``FLOAT``, ``TEXT``, ``PATH`` or a metavar a command chose (``DIR``, ``M``),
the choices of an ``Enum`` or ``Literal`` value as ``[a|b]``, nothing after a flag, arguments by
their name in capitals (``NAME``, ``CHECKPOINT``; ``[NAME]`` when optional), and paragraphs whose
lines are joined. Typer builds its parameter objects itself, with no hook for their class, so the
commands switch their parameters to the subclasses here as they are built.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, get_args, get_origin

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

__all__ = ["HelpArgument", "HelpCommand", "HelpGroup", "HelpOption", "join_lines", "use_help_style", "value_name"]

_TYPE_NAMES = {int: "INTEGER", float: "FLOAT", str: "TEXT", bool: "BOOLEAN"}


def value_name(param: TyperOption | TyperArgument, *, metavar: bool = True) -> str:
    """The word for a parameter's value in help: its metavar (unless ``metavar=False``), its choices
    as ``[a|b]``, or its type as Click names it (``INTEGER``, ``FLOAT``, ``TEXT``, ``PATH``)."""
    if metavar and param.metavar is not None:
        return param.metavar
    desc = param.type_descriptor
    if desc.choices is not None:
        return "[" + "|".join(str(c.value) if isinstance(c, Enum) else str(c) for c in desc.choices) + "]"
    if desc.is_path:
        return "PATH"
    annotation: Any = desc.annotation
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", "VALUE").upper())


class HelpOption(TyperOption):
    """An option that shows :func:`value_name` after its names, and nothing after a flag."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag and not self.count:
            return None
        return value_name(self)


class HelpArgument(TyperArgument):
    """An argument named in capitals (``NAME``) in the usage line and the Arguments panel, its
    type beside it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return value_name(self, metavar=False)

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.display_name_raw
        piece = name if self.required else f"[{name}]"
        return [piece + ("..." if self.nargs != 1 else "")]


def _adopt(params: list[Any]) -> None:
    """Switch Typer's parameter objects to the subclasses above (same state, other rendering)."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = HelpOption
        elif type(param) is TyperArgument:
            param.__class__ = HelpArgument
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()


def join_lines(text: str | None) -> str | None:
    """``text`` with the line breaks inside each paragraph made spaces: a docstring wrapped for the
    source reads as whole sentences. Paragraphs (blank lines) and Click's ``\\b`` blocks are kept.

    >>> join_lines("Make the store,\\nresuming.\\n\\nSafe to run again.")
    'Make the store, resuming.\\n\\nSafe to run again.'
    """
    if not text:
        return text
    paragraphs = text.split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(line.strip() for line in p.splitlines())
                       for p in paragraphs)


class _HelpStyle:
    """What :class:`HelpCommand` and :class:`HelpGroup` add to Typer's classes: joined help lines and
    the parameter subclasses above, for the declared parameters and for ``--help``."""

    help: str | None
    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = join_lines(self.help)
        _adopt(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _adopt([option])
        return option


class HelpCommand(_HelpStyle, TyperCommand):
    """A Typer command with the help rendering of this module."""


class HelpGroup(_HelpStyle, TyperGroup):
    """A Typer group with the help rendering of this module."""


def _unset(value: Any, default: type) -> bool:
    """Whether a ``cls`` setting is Typer's default (``None``, a placeholder or ``default`` itself)."""
    return value is None or value is default or isinstance(value, DefaultPlaceholder)


def use_help_style(app: typer.Typer) -> None:
    """Give ``app``, its commands and its sub-apps (recursively) :class:`HelpGroup` and
    :class:`HelpCommand`, except where a command or sub-app chose a class of its own.

    Call it once all commands are registered; Typer builds the Click commands from these settings
    on every run (and every ``CliRunner.invoke``).
    """
    if _unset(app.info.cls, TyperGroup):
        app.info.cls = HelpGroup
    for command in app.registered_commands:
        if _unset(command.cls, TyperCommand):
            command.cls = HelpCommand
    for group in app.registered_groups:
        if _unset(group.cls, TyperGroup):
            group.cls = HelpGroup
        if group.typer_instance is not None:
            use_help_style(group.typer_instance)
