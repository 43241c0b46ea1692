"""``--help`` of every command and sub-command: what a user reads must be true and readable.

The command tree is walked from the Typer app, so a new command is checked without a new test.
Help is rendered wide (``COLUMNS``) so that each option is one line and each paragraph one line,
which lets the checks find an option's row and see whether a paragraph was broken mid-sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from eventpipe.cli.help import join_lines
from eventpipe.cli.main import app

WIDE = {"COLUMNS": "2000", "TERMINAL_WIDTH": "2000", "NO_COLOR": "1"}
TYPER_TYPES = re.compile(r"<(bool|int|float|str|path|file|directory|int range|float range|list\[[^\]]*\])>")
SENTENCE_END = (".", ")")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


TREE = dict(_walk(typer.main.get_command(app)))


def _render(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def _params(command: Any) -> list[Any]:
    return [p for p in command.params if not getattr(p, "hidden", False)]


def _row(output: str, param: Any) -> str:
    """The rendered line of an option or an argument: the line that starts with one of its names."""
    names = [*param.opts, *param.secondary_opts] if param.param_type_name == "option" else [param.metavar]
    lines = [line for line in output.splitlines() if line.strip(" │*").split()[:1] and
             line.strip(" │*").split()[0] in names]
    assert len(lines) == 1, f"{names}: {len(lines)} rows in the help"
    return lines[0]


@pytest.fixture(params=sorted(TREE), ids=lambda p: " ".join(("eventpipe", *p)))
def command(request: pytest.FixtureRequest) -> tuple[tuple[str, ...], Any, str]:
    path = request.param
    return path, TREE[path], _render(path)


def test_the_tree_has_every_command() -> None:
    names = {" ".join(p) for p in TREE}
    assert {"prepare", "train", "show", "convert", "info", "evaluate", "bench"} <= names
    assert {f"bench {t}" for t in ("readers", "convert", "frames", "loader", "neurons", "train")} <= names


def test_no_type_placeholders_and_sensible_metavars(command: tuple[tuple[str, ...], Any, str]) -> None:
    path, cmd, output = command
    assert TYPER_TYPES.search(output) is None, TYPER_TYPES.search(output)
    assert "<bool>" not in output and "BOOLEAN" not in output
    help_rows = [line for line in output.splitlines() if "--help" in line and "Usage:" not in line]
    assert [_after_names(row, ["--help"]) for row in help_rows] == ["Show this message and exit."]
    for option in [p for p in _params(cmd) if p.param_type_name == "option"]:
        rest = _after_names(_row(output, option), [*option.opts, *option.secondary_opts])
        if option.is_flag:  # no value: the help text comes right after the names
            assert rest.startswith(_words(option.help)), f"{option.opts}: {rest!r}"
        else:  # a metavar in capitals (INTEGER, PATH, DIR, KEY=VALUE) or a list of choices
            value = rest.split()[0]
            assert value.isupper() or "|" in value, f"{option.opts}: odd metavar {value!r}"


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def _after_names(row: str, names: list[str]) -> str:
    """The row of an option without its names (and the box drawing): value, help and suffixes."""
    words = row.strip(" │").split()
    while words and (words[0] in names or words[0] == "*"):
        words.pop(0)
    return " ".join(words).rstrip(" │")


def test_usage_line_names_arguments_in_capitals(command: tuple[tuple[str, ...], Any, str]) -> None:
    path, cmd, output = command
    (usage,) = [line for line in output.splitlines() if "Usage:" in line]
    assert "{" not in usage and "}" not in usage, usage
    assert usage.split("Usage:", 1)[1].split()[: len(path) + 1] == ["eventpipe", *path]
    for argument in [p for p in _params(cmd) if p.param_type_name == "argument"]:
        name = argument.name.upper()
        assert re.search(rf"(\[|\s){name}(\]|\.\.\.|\s|$)", usage), f"{name} missing from {usage!r}"


def test_every_choice_is_listed(command: tuple[tuple[str, ...], Any, str]) -> None:
    path, cmd, output = command
    for param in _params(cmd):
        choices = param.type_descriptor.choices
        if choices is None:
            continue
        row = _row(output, param)
        for choice in choices:
            value = str(getattr(choice, "value", choice))
            assert re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", row), f"{value!r} not listed in {row!r}"


NOT_YET_SENTENCES: dict[tuple[str, ...], str] = {}


def test_every_parameter_help_is_whole_sentences(command: tuple[tuple[str, ...], Any, str],
                                                 request: pytest.FixtureRequest) -> None:
    path, cmd, output = command
    if path in NOT_YET_SENTENCES:
        request.applymarker(pytest.mark.xfail(reason=NOT_YET_SENTENCES[path], strict=False))
    for param in _params(cmd):
        text = (param.help or "").strip()
        assert text, f"{' '.join(path)} {param.name}: no help text"
        assert text.endswith(SENTENCE_END), f"{' '.join(path)} {param.name}: {text!r} does not end a sentence"
        row = _words(_row(output, param).strip(" │"))
        # the whole text on the option's row, then at most the listed default/required suffixes
        rest = row.split(_words(text), 1)
        assert len(rest) == 2, f"{text!r} is not whole in {row!r}"
        suffix = rest[1].strip(" │")
        assert re.fullmatch(r"(\[(default|required|env var)[^\]]*\]\s*)*", suffix), f"odd suffix {suffix!r}"


def test_command_help_reads_as_whole_paragraphs(command: tuple[tuple[str, ...], Any, str]) -> None:
    path, cmd, output = command
    text = join_lines(cmd.help or "") or ""
    assert text, f"{' '.join(path) or 'eventpipe'}: no help text"
    paragraphs = [p for p in text.split("\n\n") if not p.startswith("\b")]
    assert paragraphs[0].rstrip().endswith(SENTENCE_END), paragraphs[0]
    lines = [line.strip(" │") for line in output.splitlines()]
    for paragraph in paragraphs:
        assert paragraph.strip() in lines, f"paragraph broken across lines: {paragraph!r}"


# Options whose metavar lists the valid values ``a|b|c``: the list must be exactly the values the library
# accepts, so that a new value (a neuron backend, a frames dtype) cannot go missing from the help.
def _choice_lists() -> dict[str, tuple[str, ...]]:
    from eventpipe.frames.accumulate import FRAMES_DTYPES
    from eventpipe.frames.spec import DURATION_RULES, SPLIT_BY
    from eventpipe.snn.backends import BACKENDS

    return {"--split-by": SPLIT_BY, "--frames-dtype": FRAMES_DTYPES, "--duration-rule": DURATION_RULES,
            "--backend": BACKENDS}


NOT_A_CHOICE_LIST = {"FILE|NAME", "auto|cpu|cuda|cuda:N"}
"""Metavars with ``|`` that name kinds of value (a file or a name, a device pattern), not a closed list."""


def _choice_rows() -> list[tuple[tuple[str, ...], str, str]]:
    rows = []
    for path, cmd in sorted(TREE.items()):
        for p in _params(cmd):
            if p.param_type_name == "option" and p.metavar and "|" in p.metavar:
                rows.append((path, p.opts[0], p.metavar))
    return rows


@pytest.mark.parametrize(("path", "flag", "metavar"), _choice_rows(),
                         ids=[f"{' '.join(p)} {f}" for p, f, _ in _choice_rows()])
def test_listed_choices_are_the_valid_values(path: tuple[str, ...], flag: str, metavar: str) -> None:
    if metavar in NOT_A_CHOICE_LIST:
        return
    lists = _choice_lists()
    assert flag in lists, f"{' '.join(path)} {flag}: metavar {metavar!r} lists choices no test checks"
    assert metavar.split("|") == list(lists[flag]), f"{' '.join(path)} {flag}: {metavar!r} != {lists[flag]}"


def test_train_lists_every_bundled_pipeline() -> None:
    from eventpipe.train.pipelines import bundled_names

    (option,) = [p for p in TREE[("train",)].params if "--pipeline" in getattr(p, "opts", ())]
    listed = re.search(r"bundled name \(([^)]*)\)", option.help)
    assert listed is not None and listed.group(1).split(", ") == bundled_names(), option.help
