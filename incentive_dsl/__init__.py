"""incentive-dsl: sales-compensation plans as reviewable, checkable, explainable text."""

__version__ = "0.1.0"
