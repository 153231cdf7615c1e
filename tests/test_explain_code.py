"""`incentive explain-code CODE`: prints the registry entry (exit 0); an unknown code is a usage
error with a "did you mean" (exit 2)."""

from __future__ import annotations

import pytest

from incentive_dsl import cli, codes


@pytest.mark.parametrize("code", sorted(codes.CODES))
def test_every_code_is_explained(code, capsys):
    assert cli.main(["explain-code", code]) == cli.EXIT_OK
    out = capsys.readouterr().out
    entry = codes.CODES[code]
    assert out == codes.explain(code)
    assert out.startswith(f"{code} ({entry.severity}): {entry.title}\n")
    for line in entry.bad.splitlines() + entry.fixed.splitlines():
        assert line.strip() in out


def test_code_is_case_insensitive(capsys):
    assert cli.main(["explain-code", " e-file "]) == cli.EXIT_OK
    assert capsys.readouterr().out.startswith("E-FILE (error)")


@pytest.mark.parametrize("typed, meant", [("E-TIERGAP", "E-TIER-GAP"), ("tier-gap", "E-TIER-GAP"),
                                          ("efile", "E-FILE"), ("W-NEVR", "W-NEVER")])
def test_unknown_code_suggests_the_closest(typed, meant, capsys):
    assert cli.main(["explain-code", typed]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"unknown diagnostic code '{typed}'" in captured.err
    assert f"did you mean {meant}?" in captured.err


def test_unknown_code_without_a_close_one(capsys):
    assert cli.main(["explain-code", "banana"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown diagnostic code 'banana'" in err and "did you mean" not in err


def test_code_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["explain-code"])
    assert exc.value.code == cli.EXIT_USAGE
