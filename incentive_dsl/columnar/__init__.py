"""The columnar engine: a checked plan compiled to one SQL query over column tables of the
history, run on DuckDB (the optional `[columnar]` extra), for histories too large for the
interpreter's line-by-line records. It produces the interpreter's statements to the cent for
the plans it covers (docs/columnar.md lists what it covers); for any other plan it names every
feature it does not cover, each with its plan line, and the caller runs the interpreter.

    from incentive_dsl.columnar import compile_plan, NotCovered
"""

from incentive_dsl.columnar.compiler import Compiled, Gap, NotCovered, compile_plan, not_covered

__all__ = ["Compiled", "Gap", "NotCovered", "compile_plan", "not_covered"]
