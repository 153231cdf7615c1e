"""`incentive fmt` on files as they are found on disk: line endings and a byte-order mark are the
file's own and are kept (a Windows checkout stays CRLF, whether or not its layout changes), and
a file that cannot be written is said so, left as it was, and does not stop the others."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import strategies as S
from incentive_dsl import cli
from incentive_dsl.api import format_text
from incentive_dsl.syntax import format_file

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "plans" / "target_bonus.plan"


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@given(tree=S.plan_files(), bom=st.sampled_from(["", "\ufeff"]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_formatting_keeps_line_endings_and_byte_order_mark(tree, bom, newline):
    canonical = format_file(tree)
    expected = bom + canonical.replace("\n", newline)
    # The same plan laid out differently (trailing blanks on every line) in the same encoding.
    messy = bom + "".join(line + "   " + newline for line in canonical.split("\n")[:-1])
    assert format_text(S.PATH, messy).formatted == expected
    assert not format_text(S.PATH, expected).changed


def test_fmt_writes_a_crlf_plan_back_with_crlf(tmp_path, capsys):
    canonical = PLAN.read_bytes()
    path = tmp_path / "plan.plan"
    path.write_bytes(canonical.replace(b"  currency USD", b"  currency    USD")
                     .replace(b"\n", b"\r\n"))
    code, out, _ = _cli(capsys, "fmt", str(path))
    assert (code, out) == (0, f"reformatted {path}\n")
    assert path.read_bytes() == canonical.replace(b"\n", b"\r\n")
    assert _cli(capsys, "fmt", "--check", str(path))[0] == 0


def test_fmt_says_which_file_it_cannot_write_and_formats_the_others(tmp_path, capsys,
                                                                    monkeypatch):
    messy = PLAN.read_text(encoding="utf-8").replace("  currency USD", "  currency    USD")
    locked, other = tmp_path / "a.plan", tmp_path / "b.plan"
    locked.write_text(messy, encoding="utf-8")
    other.write_text(messy, encoding="utf-8")
    replace = os.replace

    def refuse(src, dst):
        if Path(dst).name == "a.plan":
            raise PermissionError(13, "Permission denied", str(dst))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    code, out, err = _cli(capsys, "fmt", str(locked), str(other))
    assert code == 2
    assert err == f"incentive fmt: cannot write {locked}: Permission denied\n"
    assert out == f"reformatted {other}\n"
    assert locked.read_text(encoding="utf-8") == messy
    assert other.read_text(encoding="utf-8") == PLAN.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.plan", "b.plan"]
