"""Reproducer: netting stage rewards against a commission is quadratic in a payee's deals.

EarningStage._netting (eval/earnings.py) sums every stage-reward line of the payee for each
booked deal, to find the rewards of that one deal: O(deals x rewards) per payee. One payee,
N deals, each reaching "Engaging" and then booked: doubling N quadruples the time (measured:
1,000 deals 0.13 s, 2,000 0.29 s, 4,000 0.91 s, 8,000 3.58 s of CPU). On the CRM sample
(plans/crm/, ~140 won deals and ~260 rewards per agent) it is 17% of the evaluation.
Indexing the reward lines by (payee, deal) makes it linear.

    PYTHONPATH=. python bench/repro/netting_scaling.py
"""
import datetime as dt
import os
import tempfile
import time
from decimal import Decimal
from incentive_dsl import api
from incentive_dsl.data.records import Dataset, Event, PayeeRecord

PLAN = '''plan "N"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  stages "Engaging"

credit bookings
  on deal booked

commission core
  on bookings
  rate 5%

stage reward presale
  on deal reaching "Engaging" pay 1 USD
  net against core when deal booked

example "x"
  payee ana role AE from 2027-01-01
  deal D1 stage "Engaging" 2027-01-02 by ana
  deal D1 booked 2027-02-10 by ana amount 1,000 USD
  expect core for ana in 2027-Q1 is 49 USD
'''
path = os.path.join(tempfile.mkdtemp(), "n.plan")
with open(path, "w", encoding="utf-8") as f:
    f.write(PLAN)
plan = api.load_plan(path)
for n in (1000, 2000, 4000, 8000):
    ev = []
    for i in range(n):
        d = dt.date(2027, 1, 1) + dt.timedelta(days=i % 300)
        ev.append(Event(id=f"S{i}", deal=f"D{i}", date=d, kind="stage", owner="ana",
                        subject="Engaging"))
        ev.append(Event(id=f"B{i}", deal=f"D{i}", date=d + dt.timedelta(days=30), kind="booked",
                        amount=Decimal(1000), currency="USD", owner="ana"))
    ev.sort(key=Event.sort_key)
    ds = Dataset(events=tuple(ev), payees=(PayeeRecord(id="ana", role="AE",
                                                       start=dt.date(2027, 1, 1)),))
    t = time.process_time()
    api.run(plan.versions, ds)
    print(n, "deals:", round(time.process_time() - t, 2), "s")
