"""Mutation fuzzing of the command line: shared by tests/test_fuzz.py (bounded, in CI) and
bench/fuzz.py (long runs that count outcomes).

An input is a shipped file (a plan, a data file, a mapping) changed by a few mutations that
aim at the edges of the limits (incentive_dsl/limits.py): huge and non-ASCII numbers, far
dates, deep nesting, bidirectional controls, duplicated and dropped lines. Each input is run
through the real `incentive` command line in-process, in a scratch directory, under a time
limit. The property: the exit code is never 3 (internal error), nothing escapes as an
exception, and no input takes longer than the limit.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import random
import re
import shutil
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

from incentive_dsl import cli

ROOT = Path(__file__).resolve().parents[1]

# Seeds: small shipped inputs, so one input runs in milliseconds.
PLAN_SEEDS = sorted(p for p in (ROOT / "tests" / "mechanics").glob("*.plan")
                    if p.stat().st_size < 4000)
DATA_DIR = ROOT / "tests" / "data" / "clean"
DATA_SEEDS = sorted(DATA_DIR.iterdir())
MAPPING_SEED = ROOT / "plans" / "crm" / "crm.toml"

INTERESTING = [
    "9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01", "2027-02-30",
    "1" + "0" * 33, "1" + "0" * 40, "9" * 4301, "0." + "0" * 30 + "1", "1E+999999999", "1e5",
    "-1", "0", "0.06", "0%", "100000000000000000000000000000%", "NaN", "Infinity",
    "２０２７", "٢٠٢٧", "१२", "𝟙𝟘𝟘", "\u202e", "\u2066", "\u200f", "\u061c",
    "[" * 60, "{" * 60, "(" * 120, '"', "#", "\t", "\r", "\x00", ",", ";", ":",
    "2027-Q5", "FY2027-03", "FY2027", "2027-13", "within 1000000000000000000000000 months",
    "999,999,999,999,999", "1,000,000,000,000,000", "0.0000000000001",
]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
        "\u2069", "\u200e", "\u200f", "\u061c"]
JSON_VALUES = [
    "1E+999999999", "1e-999999999", "1E+30", "1e5", "9" * 4301, "-0", "0.1e1",
    "[" * 5000 + "]" * 5000, "{\"a\":" * 40 + "1" + "}" * 40, "[[[[1]]]]", "null", "true",
    "\"\\u202e\"", "\"２０２７-01-01\"", "\"1" + "0" * 40 + "\"", "NaN", "-Infinity", "{}",
]
TOML_VALUES = [
    "[" * 1000 + "]" * 1000, "9" * 4301, "1" + "0" * 40, "9999-12-31", "0001-01-01", "inf",
    "nan", "\"\u202e\"", "\"２０２７-01-01\"", "{}", "[]", "1e999", "\"1" + "0" * 40 + "\"",
]


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class Timeout(BaseException):
    """Raised by the alarm: a BaseException, so the command line's handler of internal
    errors cannot swallow it."""


def mutate(text: str, rng: random.Random, values: Sequence[str] = INTERESTING,
           rounds: int | None = None) -> str:
    """`text` with one to three random mutations."""
    for _ in range(rounds or rng.randint(1, 3)):
        lines = text.split("\n")
        kind = rng.randrange(10)
        i = rng.randrange(len(lines))
        if kind == 0:  # a word becomes an interesting value
            words = list(re.finditer(r"[^\s,:\"]+", lines[i]))
            if words:
                m = rng.choice(words)
                lines[i] = lines[i][:m.start()] + rng.choice(values) + lines[i][m.end():]
        elif kind == 1:  # a number becomes an interesting value
            nums = list(re.finditer(r"[0-9][0-9,.]*", lines[i]))
            if nums:
                m = rng.choice(nums)
                lines[i] = lines[i][:m.start()] + rng.choice(values) + lines[i][m.end():]
        elif kind == 2:  # an insertion anywhere in a line
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(values) + lines[i][at:]
        elif kind == 3 and len(lines) > 1:
            del lines[i]
        elif kind == 4:  # a line repeated, sometimes many times
            lines[i:i] = [lines[i]] * rng.choice((1, 1, 2, 50))
        elif kind == 5 and len(lines) > 1:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == 8:  # inside a quoted text or a comment, where any character is allowed
            spots = [m.end() - 1 for m in re.finditer(r'"[^"\n]*"', lines[i])] + \
                [len(lines[i])] * ("#" in lines[i])
            if spots:
                at = rng.choice(spots)
                value = rng.choice(BIDI if rng.random() < 0.5 else INTERESTING)
                lines[i] = lines[i][:at] + value + lines[i][at:]
        elif kind == 9:  # a number given more digits than allowed, or more decimals
            nums = list(re.finditer(r"[0-9]+", lines[i]))
            if nums:
                m = rng.choice(nums)
                digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(14, 40)))
                lines[i] = lines[i][:m.start()] + "1" + digits + lines[i][m.end():]
        elif kind == 6:  # digits as another script writes them
            lines[i] = lines[i].translate(FULLWIDTH)
        else:  # a character dropped
            if lines[i]:
                at = rng.randrange(len(lines[i]))
                lines[i] = lines[i][:at] + lines[i][at + 1:]
        text = "\n".join(lines)
    return text


def mutate_json_line(text: str, rng: random.Random) -> str:
    """A JSON Lines file with one value of one row replaced by an interesting JSON value."""
    lines = [ln for ln in text.split("\n") if ln.strip()]
    i = rng.randrange(len(lines))
    values = list(re.finditer(r'(?<=: )("[^"]*"|[^,}]+)', lines[i]))
    if values:
        m = rng.choice(values)
        lines[i] = lines[i][:m.start()] + rng.choice(JSON_VALUES) + lines[i][m.end():]
    return "\n".join(lines) + "\n"


def mutate_toml(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    slots = [k for k, ln in enumerate(lines) if re.match(r"\s*[\w\"]+\s*=", ln)]
    if not slots or rng.random() < 0.3:
        return mutate(text, rng)
    i = rng.choice(slots)
    key = lines[i].split("=", 1)[0]
    lines[i] = f"{key}= {rng.choice(TOML_VALUES)}"
    return "\n".join(lines)


@contextlib.contextmanager
def time_limit(seconds: float):
    def alarm(signum, frame):
        raise Timeout(f"no result after {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


CODE = re.compile(r"(?:error|warning|note)\[([EWD]-[A-Z]+(?:-[A-Z]+)*)\]")


_PARSER = functools.cache(cli.build_parser)


def run_cli(argv: Sequence[str], cwd: Path, seconds: float = 10.0) -> tuple[int, str]:
    """Exit code and output (stdout and stderr) of `incentive ARGV` run in-process in `cwd`.
    The argument parser is built once (building it takes longer than checking a small plan)."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                mock.patch.object(cli, "build_parser", _PARSER), time_limit(seconds):
            try:
                code = cli.main(list(argv))
            except SystemExit as exc:  # argparse: usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(here)
    return code, out.getvalue() + err.getvalue()


class Workspace:
    """A scratch directory holding a copy of the seeds, where mutated files are written."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="incentive-fuzz-"))
        shutil.copytree(DATA_DIR, self.dir / "data")
        # The CRM export cut to its first rows: a mapping input runs in milliseconds.
        (self.dir / "crm" / "data").mkdir(parents=True)
        for f in (MAPPING_SEED.parent / "data").glob("*.csv"):
            head = f.read_text("utf-8").split("\n")[:150]
            (self.dir / "crm" / "data" / f.name).write_text("\n".join(head) + "\n", "utf-8")

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name: str, text: str) -> str:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        return str(path)

    def fresh_data(self) -> Path:
        """A data directory with the clean seeds (mutations of one file must not leak into
        the next input)."""
        d = self.dir / "case"
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(DATA_DIR, d)
        return d


def plan_case(ws: Workspace, rng: random.Random) -> list[str]:
    """A mutated plan and a command over it."""
    seed = rng.choice(PLAN_SEEDS)
    plan = ws.write("fuzz.plan", mutate(seed.read_text("utf-8"), rng))
    command = rng.choice(["check", "check", "fmt", "test", "test-coverage", "run", "diff"])
    if command == "fmt":
        return ["fmt", "--check", plan]
    if command == "test-coverage":
        return ["test", "--coverage", plan]
    if command == "run":
        return ["run", plan, "--data", str(ws.fresh_data())]
    if command == "diff":
        return ["diff", str(seed), plan, "--data", str(ws.fresh_data())]
    return [command, plan]


def data_case(ws: Workspace, rng: random.Random) -> list[str]:
    """A mutated data file (CSV or JSON Lines) read by `data check` or `run`."""
    d = ws.fresh_data()
    victim = rng.choice(DATA_SEEDS)
    text = victim.read_text("utf-8")
    if victim.suffix == ".jsonl" and rng.random() < 0.6:
        text = mutate_json_line(text, rng)
    else:
        text = mutate(text, rng)
    (d / victim.name).write_bytes(text.encode("utf-8", "surrogatepass"))
    ext = victim.suffix
    files = {k: str(d / f"{k}{ext}") for k in ("events", "roster", "quotas", "fx", "territories")}
    plan = str(rng.choice(PLAN_SEEDS))
    if rng.random() < 0.7:
        return ["data", "check", "--deals", files["events"], "--roster", files["roster"],
                "--quotas", files["quotas"], "--fx", files["fx"], "--territories",
                files["territories"], "--plan", plan]
    return ["run", plan, "--deals", files["events"], "--roster", files["roster"],
            "--quotas", files["quotas"], "--fx", files["fx"]]


def mapping_case(ws: Workspace, rng: random.Random) -> list[str]:
    path = ws.write("crm/crm.toml", mutate_toml(MAPPING_SEED.read_text("utf-8"), rng))
    return ["data", "check", "--map", path]


def args_case(ws: Workspace, rng: random.Random) -> list[str]:
    """Odd command-line arguments over a good plan and good data."""
    plan = str(rng.choice(PLAN_SEEDS))
    data = str(DATA_DIR)
    periods = ["2027-Q5", "2027-13", "FY2027-03", "9999", "0000-Q1", "２０２７", "2027-Q1",
               "2027", "", "-1", "2027-H3", "1" * 5000]
    command = rng.choice(["run", "explain", "diff", "test", "check"])
    argv = [command, plan]
    if command in ("run", "explain", "diff"):
        if command == "diff":
            argv.append(str(rng.choice(PLAN_SEEDS)))
        argv += ["--data", data]
        if rng.random() < 0.8:
            argv += ["--period", rng.choice(periods)]
        if command == "explain":
            argv += ["--payee", rng.choice(["ana", "nobody", "\u202e", ""])]
        if rng.random() < 0.3:
            argv += ["--format", rng.choice(["json", "csv", "markdown", "text", "xml"])]
    if rng.random() < 0.2:
        argv.insert(rng.randrange(len(argv) + 1), rng.choice(INTERESTING))
    return argv


CASES = {"plan": plan_case, "data": data_case, "mapping": mapping_case, "args": args_case}


def outcome(argv: Sequence[str], ws: Workspace, seconds: float = 10.0) -> tuple[int, str]:
    """(exit code, output); raises AssertionError on an internal error or a hang."""
    try:
        code, err = run_cli(argv, ws.dir, seconds)
    except Timeout:
        raise AssertionError(f"hang: {argv!r}") from None
    assert code != 3 and "internal error" not in err, (argv, err[-2000:])
    return code, err
