"""Paths that are not regular files: refused at once, without reading (incentive_dsl/files.py).

A FIFO blocks `open` and `read`, /dev/zero never ends, and both report a size of 0, so each
case runs under an alarm: a regression fails the test instead of hanging the suite. The
ledger's paths are tested in tests/test_ledger_hardening.py.
"""

from __future__ import annotations

import os
import signal

import pytest

from incentive_dsl import cli
from incentive_dsl.files import FileTooLarge, NotRegularFile, read_regular
from test_ledger import Workspace

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(signal, "SIGALRM"),
                                reason="needs FIFOs and alarms")


class Hung(BaseException):
    """Not an Exception: the command line's catch-all must not turn it into an exit code."""


@pytest.fixture
def ws(tmp_path, capsys):
    def hung(signum, frame):
        raise Hung("the command blocked on a file that is not a regular file")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield Workspace(tmp_path, capsys)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def odd_paths(ws) -> dict[str, str]:
    """Paths that name no regular file -> what the error says about them."""
    fifo = ws.root / "pipe.plan"
    os.mkfifo(fifo)
    loop = ws.root / "loop.plan"
    loop.symlink_to(loop)
    return {str(fifo): "not a regular file", "/dev/zero": "not a regular file",
            str(loop): "Too many levels of symbolic links",
            str(ws.root / ("p" * 300 + ".plan")): "File name too long"}


def test_read_regular_refuses_before_reading(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(NotRegularFile):
        read_regular(tmp_path / "fifo")
    with pytest.raises(NotRegularFile):
        read_regular("/dev/zero", 10)
    with pytest.raises(IsADirectoryError):
        read_regular(tmp_path)
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(FileTooLarge):
        read_regular(tmp_path / "big", 10)
    assert read_regular(tmp_path / "big", 11) == b"x" * 11


def test_plan_paths_that_are_no_regular_file(ws):
    for path, said in odd_paths(ws).items():
        for args in (("check", path), ("fmt", "--check", path), ("test", path),
                     ("run", path, *ws.data()), ("close", "2027-01", path, *ws.data())):
            code, out, err = ws.cli(*args)
            assert code == cli.EXIT_USAGE, (args, code, out, err)
            assert f"{path}:1:1: error[E-FILE]: " in err and said in err, (args, err)
            assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--deals", "--roster", "--quotas", "--fx"])
def test_data_paths_that_are_no_regular_file(ws, option):
    for path, said in odd_paths(ws).items():
        data = dict(zip(ws.data()[::2], ws.data()[1::2]))
        data[option] = path
        args = ("run", str(ws.plan), *(x for kv in data.items() for x in kv))
        code, out, err = ws.cli(*args)
        assert code == cli.EXIT_USAGE, (args, code, out, err)
        assert "error[D-FILE]: " in err and said in err, (args, err)


def test_mapping_paths_that_are_no_regular_file(ws):
    for path, said in odd_paths(ws).items():
        for args in (("run", str(ws.plan), "--map", path), ("data", "check", "--map", path)):
            code, out, err = ws.cli(*args)
            assert code == cli.EXIT_USAGE, (args, code, out, err)
            said_all = out + err  # `data check` reports on standard output
            assert "error[D-FILE]: " in said_all and said in said_all, (args, said_all)


def test_a_mapping_naming_a_pipe_as_its_export(ws):
    os.mkfifo(ws.root / "export.csv")
    (ws.root / "crm.toml").write_text(
        '[deals]\nfile = "export.csv"\nid = "Id"\nowner = "Owner"\n'
        '[roster]\nfile = "roster.csv"\n', encoding="utf-8")
    code, _, err = ws.cli("run", str(ws.plan), "--map", str(ws.root / "crm.toml"))
    assert code in (cli.EXIT_USAGE, cli.EXIT_PROBLEMS), err
    assert "export.csv' is not a regular file" in err and "Traceback" not in err
