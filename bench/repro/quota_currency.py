"""Reproducer (bench/README.md, "Interpreter issues found"): a quota row in another currency
is used as if it were in the plan currency. docs/language.md 5.3: every amount from the data,
quotas in another currency included, is converted to the plan currency; docs/data.md: quota
amounts in another currency need a rate on or before the end of their period.

A 250,000 EUR quarterly quota at 1.20 USD/EUR is 300,000 USD; a 300,000 USD deal is exactly
100% attainment and earns 8% = 24,000 USD. The interpreter reads the quota as 250,000 USD
(120%) and pays 26,000 USD."""
import datetime as dt
import os
import sys
from decimal import Decimal

from incentive_dsl import api
from incentive_dsl.data.records import Dataset, Event, FxRate, PayeeRecord, QuotaRecord
from incentive_dsl.eval.run import evaluate

plan = api.load_plan(os.path.join(os.path.dirname(__file__), "..", "reference.plan")).plan
data = Dataset(
    events=(Event(id="E1", deal="D1", date=dt.date(2027, 2, 10), kind="booked",
                  amount=Decimal(300_000), currency="USD", owner="ana", term_months=12,
                  fields=(("product", "P1"), ("type", "new_business"))),),
    payees=(PayeeRecord(id="ana", role="AE", start=dt.date(2026, 1, 1)),),
    quotas=(QuotaRecord(payee="ana", quota="bookings", period="2027-Q1",
                        amount=Decimal(250_000), currency="EUR"),),
    fx=(FxRate(currency="EUR", target="USD", date=dt.date(2027, 1, 1), rate=Decimal("1.20")),))
result = evaluate(plan, data)
core = sum(ln.amount for ln in result.earnings if ln.component == "core")
print(f"core for ana in 2027-Q1: {core} USD (expected 24000.00 USD)")
sys.exit(0 if core == 24_000 else 1)
