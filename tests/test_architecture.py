"""The layering the project keeps: Lark (its trees, tokens and parsers) stays in the syntax
layer; everything else reads the plan as `syntax.nodes` records."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "incentive_dsl"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_only_the_syntax_layer_imports_lark():
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 50
    outside = [str(p.relative_to(PACKAGE)) for p in modules
               if "lark" in _imports(p) and p.parent.name != "syntax"]
    assert outside == []
    assert "lark" in _imports(PACKAGE / "syntax" / "accepts.py")  # the scan does find it
