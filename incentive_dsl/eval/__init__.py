"""The interpreter: checked plan + dataset -> credits -> measures -> earnings -> payouts.

Each stage is a function of the previous stage's records (eval/credits.py, eval/measures.py,
eval/earnings.py, eval/payouts.py); eval/run.py chains them.
"""

from incentive_dsl.eval.run import RunResult, evaluate, evaluate_versions

__all__ = ["RunResult", "evaluate", "evaluate_versions"]
