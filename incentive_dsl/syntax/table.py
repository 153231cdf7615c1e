"""The compiled parser, shipped inside the package as JSON data (parser_table.json).

Building the LALR parser from the grammar takes about a second per process. It used to be
cached as a pickle in the user's cache directory, named by a hash anyone can compute, so
whoever could write that directory (a shared or restored CI cache, another account) ran code
in every command. The table is now data, not code: Lark's own serialization of the parser,
written as JSON next to this module when the grammar changes and read with `json.loads`.
Nothing is read from outside the package, and nothing is written at run time.

The table names the grammar text, the Lark version and the options it was built from; on any
difference (a grammar edited in a checkout, another Lark release) the parser is built from the
grammar instead, which is correct, only slower. tests/test_parser_table.py fails while the
shipped table is stale. Regenerate it with:

    python -c "from incentive_dsl.syntax.table import write_table; write_table()"
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lark import _LOAD_ALLOWED_OPTIONS
from lark.lexer import TerminalDef

TABLE_FILE = "parser_table.json"
# Options fixed when the parser is built (part of the table); the indenter and the transformer
# are objects, given when it is loaded.
BUILD_OPTIONS = {"parser": "lalr", "lexer": "contextual", "start": ["plan_file", "block"],
                 "keep_all_tokens": True, "maybe_placeholders": True}


def table_key(grammar: str) -> str:
    """What a table is valid for: the grammar text, the Lark version and the options."""
    options = json.dumps(BUILD_OPTIONS, sort_keys=True)
    return hashlib.sha256(f"{lark.__version__}\n{options}\n{grammar}".encode()).hexdigest()


def _int_keys(d: dict) -> dict:
    """JSON object keys are text; Lark's parse tables and memo are keyed by numbers."""
    if d and all(k.isdigit() for k in d):
        return {int(k): v for k, v in d.items()}
    return d


def _shipped() -> dict | None:
    try:
        text = resources.files("incentive_dsl.syntax").joinpath(TABLE_FILE).read_text("utf-8")
        return json.loads(text, object_hook=_int_keys)
    except (OSError, ValueError):
        return None


def load_parser(grammar: str, **runtime) -> Lark:
    """The parser for `grammar`: from the shipped table when it was built from this grammar,
    else built from the grammar (nothing cached)."""
    table = _shipped()
    if table is not None and table.get("key") == table_key(grammar):
        return Lark._load_from_dict(table["data"], table["memo"], **runtime)
    return Lark(grammar, **BUILD_OPTIONS, **runtime)


def build_table(grammar: str) -> str:
    """The JSON text of the compiled parser for `grammar`."""
    parser = Lark(grammar, **BUILD_OPTIONS)
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    # Options given at load time are left out, as Lark's own cache does.
    data["options"] = {k: v for k, v in data["options"].items()
                       if k not in _LOAD_ALLOWED_OPTIONS}
    return json.dumps({"key": table_key(grammar), "lark": lark.__version__, "data": data,
                       "memo": memo}, sort_keys=True, separators=(",", ":")) + "\n"


def write_table() -> Path:
    """Regenerate parser_table.json from the grammar (in a checkout)."""
    from incentive_dsl.syntax.parser import grammar_text

    path = Path(__file__).with_name(TABLE_FILE)
    path.write_text(build_table(grammar_text()), encoding="utf-8")
    return path
