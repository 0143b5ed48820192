"""``calcsim --help`` a new user can read, and the terminal summary of ``calcsim run``."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from collections.abc import Iterator

import pytest

from analysis import cli
from analysis.cli.main import build_parser, main

#: Abbreviations a new user cannot be expected to know; the help spells them out instead.
JARGON = re.compile(r"\b(LHS|ABC|CRN)\b")


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _commands(
    parser: argparse.ArgumentParser | None = None, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command as (argv prefix, parser), the top level first."""
    parser = build_parser() if parser is None else parser
    yield path, parser
    sub = _subparsers(parser)
    if sub is not None:
        for name, child in sub.choices.items():
            yield from _commands(child, (*path, name))


COMMANDS = [path for path, _ in _commands()]


def _help_output(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """An action's help as ``--help`` prints it (``%(default)s`` filled in), on one line."""
    params = dict(vars(action), prog=parser.prog)
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    return " ".join((action.help % params).split())


def _mentions_default(text: str, default: object) -> bool:
    shown = {str(default)}
    if isinstance(default, int) and not isinstance(default, bool):
        shown.add(f"{default:,}")
    return any(s in text for s in shown)


def test_both_entry_points_are_the_same_function():
    assert cli.main is main


def test_there_are_subcommands_to_check():
    names = {path[0] for path in COMMANDS if path}
    assert {
        "run",
        "calc-only",
        "compare",
        "calibrate",
        "fit",
        "validate",
        "sensitivity",
        "check",
        "table",
        "scenarios",
        "report",
        "teach",
    } <= names
    assert ("teach", "export") in COMMANDS


def test_top_level_help_lists_every_subcommand_with_a_description(capsys):
    out = _help_output(capsys, [])
    for name in _subparsers(build_parser()).choices:
        # the description follows the name, or starts the next line when the name is long (argparse)
        match = re.search(rf"^ {{4}}{re.escape(name)}(?: +|\n {{6,}})(\S.*)$", out, flags=re.MULTILINE)
        assert match, f"{name}: not listed with a description in calcsim --help"
        assert len(match.group(1).split()) >= 3, name


@pytest.mark.parametrize("path", [p for p in COMMANDS if p], ids=" ".join)
def test_every_subcommand_help_starts_with_a_description(capsys, path):
    parser = dict(_commands())[path]
    assert parser.description and parser.description.strip(), f"calcsim {' '.join(path)}: no description"
    out = _help_output(capsys, list(path))
    assert " ".join(parser.description.split()[:4]) in " ".join(out.split())


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "calcsim")
def test_every_option_has_help_that_states_its_default(capsys, path):
    parser = dict(_commands())[path]
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        if not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{name}: no help text")
            continue
        text = _expanded_help(parser, action)
        default = action.default
        if default not in (None, False, [], argparse.SUPPRESS) and not _mentions_default(text, default):
            missing.append(f"{name}: help does not state the default {default!r}: {text!r}")
    assert not missing, f"calcsim {' '.join(path)}: " + "; ".join(missing)
    out = _help_output(capsys, list(path))
    assert "%(" not in out


def test_help_has_no_unexplained_jargon(capsys):
    found = {}
    for path in COMMANDS:
        out = _help_output(capsys, list(path))
        hits = sorted(set(JARGON.findall(out)))
        if hits:
            found[" ".join(path) or "calcsim"] = hits
    assert not found, found


# --------------------------------------------------------------------------- the terminal summary
def _table(out: str) -> tuple[str, str, list[str]]:
    """Header, rule and data lines of the summary table in ``calcsim run`` output."""
    lines = out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("measure "))
    data = []
    for line in lines[i + 2 :]:
        if not line.strip():
            break
        data.append(line)
    return lines[i], lines[i + 1], data


@pytest.fixture(scope="module")
def summary() -> str:
    """``calcsim run`` output of a small stratified run (shared by the summary tests)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["run", "--women", "2000", "--seed", "5", "--by", "round"]) == 0
    return buf.getvalue()


def test_summary_columns_line_up_for_long_measure_names(summary):
    header, rule, data = _table(summary)
    assert any(line.startswith("calc_only_presentation_share_of_screen_detected ") for line in data)
    # the stratum (second cell) starts in the same column on the header and on every data line
    starts = {m.start() for line in [header, *data] for m in list(re.finditer(r"\S+", line))[1:2]}
    assert len(starts) == 1, starts
    # the rule underlines each column; no cell spills into the gap between two columns
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    assert len(spans) >= 5, rule
    for line in [header, *data]:
        for (start, end), (nxt, _) in zip(spans, spans[1:], strict=False):
            gap = line[end:nxt]
            assert gap.strip() == "" and line[start:end].strip(), (line, start, end)


def test_summary_shows_each_denominator(summary):
    header, _, data = _table(summary)
    assert "denominator" in header
    rows = {line.split()[0] + " " + line.split()[1]: line for line in data}
    assert rows["recall_rate all"].rstrip().endswith("screens")
    assert "screen-detected + interval cancers" in rows["sensitivity all"]
    assert rows["ppv1 round=first"].rstrip().endswith("recalls")
    assert "‰" in summary and "per 1,000 screens" in summary


def test_run_replicates_says_replicates_times_women(capsys):
    assert main(["run", "--women", "1000", "--seed", "3", "--replicates", "2"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "2 × 1,000 women" in first and "2,000 women" not in first


def test_calc_only_replicates_says_replicates_times_women(capsys):
    assert cli.main(["calc-only", "--women", "1000", "--seed", "3", "--replicates", "2"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "2 × 1,000 women" in first and "2,000 women" not in first
