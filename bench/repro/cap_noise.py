"""Prints the 'capped' lines the interpreter writes for bench/repro/cap_noise.plan, whose
yearly cap of 150,000 USD is never reached (there should be none)."""
import os
import sys

from incentive_dsl import api
from incentive_dsl.data.examples import example_dataset
from incentive_dsl.eval.run import evaluate

plan = api.load_plan(os.path.join(os.path.dirname(__file__), "cap_noise.plan")).plan
result = evaluate(plan, example_dataset(plan, plan.examples[0]))
capped = [ln for ln in result.earnings if ln.kind == "capped"]
for ln in capped:
    print(ln.date, ln.amount, "|", ln.trace.because)
print(f"{len(capped)} capped line(s); expected 0")
sys.exit(1 if capped else 0)
