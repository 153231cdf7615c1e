"""The data shipped in plans/data/, loaded as a plan would read it (shared by tests)."""

from pathlib import Path

from incentive_dsl import api

ROOT = Path(__file__).parents[1]
DATA = ROOT / "plans" / "data"


def load_shipped_data(plan):
    """The shipped dataset for `plan` (its fields typed by the plan) and its diagnostics."""
    return api.load_data(str(DATA / "events.csv"), str(DATA / "roster.csv"),
                         quotas=str(DATA / "quotas.csv"), fx=str(DATA / "fx.csv"),
                         territories=str(DATA / "territories.csv"), plan=plan)
