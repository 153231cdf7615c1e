"""`incentive run --format json` on every shipped plan writes money with no more digits after
the point than the plan's rounding allows (issue: values like 3,585.000…001 USD must never
reach JSON): to the minor unit wherever the plan has rounded (every amount of a plan rounding
per line; what a statement pays, for a plan rounding per statement), and exact finite
decimals elsewhere (no 34-digit tails); and a statement's amounts with at least the minor
unit's digits, zeros too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from incentive_dsl import cli

ROOT = Path(__file__).parents[1]
PLANS = sorted(p for p in (ROOT / "plans").rglob("*.plan") if "crm" not in p.parts)
MONEY_KEYS = {"amount", "earned", "paid", "held", "released", "carried", "capped",
              "clawed_back", "drawn", "recovered", "draw_balance"}
NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def money_values(doc, path=""):
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key in MONEY_KEYS and isinstance(value, str):
                yield f"{path}.{key}", value
            else:
                yield from money_values(value, f"{path}.{key}")
    elif isinstance(doc, list):
        for item in doc:
            yield from money_values(item, path + "[]")


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: str(p.relative_to(ROOT / "plans")))
def test_json_money_has_no_more_digits_than_the_rounding_allows(plan, tmp_path):
    out = tmp_path / "run.json"
    code = cli.main(["run", str(plan), "--data", str(ROOT / "plans" / "data"),
                     "--format", "json", "--output", str(out)])
    assert code == cli.EXIT_OK
    doc = json.loads(out.read_text())
    per_line = "per line" in plan.read_text()
    seen = 0
    for where, value in money_values(doc):
        match = NUMBER.fullmatch(value)
        assert match, (where, value)
        digits = len(match.group(1) or "")
        if per_line or where == ".statements[].paid":
            assert digits <= 2, (where, value)
        else:  # exact lines and sums of a plan rounding per statement (its total is rounded)
            assert digits <= 8, (where, value)
        seen += 1
    assert seen > 100  # the walk found the run's amounts
    # Every amount of a statement carries the cent's digits, a zero too: `0.00`, never `0`
    # (a flow no line went into is a bare Decimal 0 in the record).
    statements = doc["statements"]
    amounts = [(k, v) for s in statements for k, v in s.items()
               if k not in ("payee", "pay_period", "start", "end")]
    assert ("earned", "0.00") in amounts
    assert [(k, v) for k, v in amounts if not re.fullmatch(r"-?\d+\.\d{2,}", v)] == []
