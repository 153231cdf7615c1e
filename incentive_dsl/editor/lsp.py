"""The language server (`incentive lsp`, over stdio; needs the `[lsp]` extra, pygls).

On every open and change it checks the document as `incentive check` does and publishes all
of its diagnostics (syntax errors, check errors, warnings) with their ranges, codes, hints and
related places; hover shows what a name is (its kind, its type or unit, the line defining
it); go-to-definition jumps to where a rule, quota, field, role or example payee is declared,
find-references lists its uses, and the outline lists every declaration. Completion offers
what the grammar accepts at the cursor (editor/complete.py); formatting is `incentive fmt`'s.
Each document is checked on its own: the checks across the versions of one plan are
`incentive check DIR`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlparse

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from incentive_dsl import __version__
from incentive_dsl.api import FormatterBug, format_text
from incentive_dsl.editor import complete as completion
from incentive_dsl.diagnostics import Diagnostic, Severity
from incentive_dsl.editor.symbols import Analysis, analyze
from incentive_dsl.span import Span

SEVERITY = {Severity.ERROR: T.DiagnosticSeverity.Error,
            Severity.WARNING: T.DiagnosticSeverity.Warning,
            Severity.NOTE: T.DiagnosticSeverity.Information}


def document_path(uri: str) -> str:
    """The path diagnostics name: the file's path for file: URIs, the URI otherwise."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


class PlanServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("incentive", __version__)
        self.analyses: dict[str, Analysis] = {}

    def codec(self) -> PositionCodec:
        return PositionCodec(self.workspace.position_encoding or T.PositionEncodingKind.Utf16)

    def refresh(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        result = analyze(document_path(uri), doc.source)
        self.analyses[uri] = result
        lines = result.source.split("\n")  # spans count only \n as a line break
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, version=doc.version,
            diagnostics=[self.diagnostic(d, uri, result.path, lines) for d in result.diagnostics]))

    def range(self, span: Span, lines: Sequence[str]) -> T.Range:
        codec = self.codec()

        def position(line: int, column: int) -> T.Position:
            # A span's line and column count from 1; a generated span (line 0) is the start.
            line, column = max(line - 1, 0), max(column - 1, 0)
            if line >= len(lines):
                return T.Position(line=line, character=0)
            column = min(column, len(lines[line]))
            return codec.position_to_client_units(lines, ServerTextPosition(line, column))

        start = position(span.line, span.column)
        end = position(span.end_line, span.end_column)
        if (end.line, end.character) <= (start.line, start.character):
            end = T.Position(line=start.line, character=start.character + 1)
        return T.Range(start=start, end=end)

    def diagnostic(self, d: Diagnostic, uri: str, path: str, lines: Sequence[str]
                   ) -> T.Diagnostic:
        related = [T.DiagnosticRelatedInformation(
            location=T.Location(uri=uri, range=self.range(r.span, lines)), message=r.message)
            for r in d.related if r.span.path == path]
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        return T.Diagnostic(range=self.range(d.span, lines), message=message,
                            severity=SEVERITY[d.severity], code=d.code, source="incentive",
                            related_information=related or None)

    def lookup(self, uri: str, position: T.Position):
        result = self.analyses.get(uri)
        if result is None:
            return None, None
        lines = result.source.split("\n")
        if position.line >= len(lines):
            return result, None
        at = self.codec().position_from_client_units(lines, position)
        return result, result.at(at.line + 1, at.character + 1)


server = PlanServer()


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PlanServer, params: T.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PlanServer, params: T.DidChangeTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PlanServer, params: T.DidCloseTextDocumentParams) -> None:
    ls.analyses.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
        uri=params.text_document.uri, diagnostics=[]))


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: PlanServer, params: T.HoverParams) -> T.Hover | None:
    result, occ = ls.lookup(params.text_document.uri, params.position)
    if occ is None:
        return None
    text = result.describe(occ)
    if text is None:
        return None
    return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text),
                   range=ls.range(occ.span, result.source.split("\n")))


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PlanServer, params: T.DefinitionParams) -> T.Location | None:
    uri = params.text_document.uri
    result, occ = ls.lookup(uri, params.position)
    if occ is None:
        return None
    d = result.definition(occ)
    if d is None:
        return None
    return T.Location(uri=uri, range=ls.range(d.span, result.source.split("\n")))


@server.feature(T.TEXT_DOCUMENT_REFERENCES)
def references(ls: PlanServer, params: T.ReferenceParams) -> list[T.Location] | None:
    uri = params.text_document.uri
    result, occ = ls.lookup(uri, params.position)
    if occ is None:
        return None
    lines = result.source.split("\n")
    return [T.Location(uri=uri, range=ls.range(o.span, lines)) for o in result.occurrences
            if o.key == occ.key and (params.context.include_declaration or not o.definition)]


SYMBOL_KINDS = {"quota": T.SymbolKind.Constant, "credit": T.SymbolKind.Variable,
                "measure": T.SymbolKind.Variable, "role": T.SymbolKind.EnumMember,
                "deal field": T.SymbolKind.Field, "payee field": T.SymbolKind.Field,
                "example payee": T.SymbolKind.Object}


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def outline(ls: PlanServer, params: T.DocumentSymbolParams) -> list[T.SymbolInformation]:
    """Every definition, for an editor's outline and go-to-symbol."""
    uri = params.text_document.uri
    result = ls.analyses.get(uri)
    if result is None:
        return []
    lines = result.source.split("\n")
    return [T.SymbolInformation(
        name=".".join(d.key[1:]) if d.key[0] == "field" else d.key[-1],
        kind=SYMBOL_KINDS.get(d.what, T.SymbolKind.Function), container_name=d.what,
        location=T.Location(uri=uri, range=ls.range(d.span, lines)))
        for d in sorted(result.definitions.values(), key=lambda d: (d.span.line, d.span.column))]


COMPLETION_KINDS = {"role": T.CompletionItemKind.EnumMember, "quota": T.CompletionItemKind.Constant,
                    "credit": T.CompletionItemKind.Variable,
                    "measure": T.CompletionItemKind.Variable,
                    "built-in": T.CompletionItemKind.Variable,
                    "example payee": T.CompletionItemKind.Value}


_GLUES = re.compile(r"[\w%)\]\"]")  # what a word written next to it would be read with


def _completion_kind(item: completion.Item) -> T.CompletionItemKind:
    if item.kind == completion.KEYWORD:
        return T.CompletionItemKind.Keyword
    if item.kind == completion.FIELD_NAME:
        return T.CompletionItemKind.Field
    if item.kind == completion.PERIOD:
        return T.CompletionItemKind.Value
    return COMPLETION_KINDS.get(item.detail, T.CompletionItemKind.Function)  # a component


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["."]))
def complete(ls: PlanServer, params: T.CompletionParams) -> list[T.CompletionItem]:
    """The keywords, names, fields and periods that may be written at the cursor."""
    result = ls.analyses.get(params.text_document.uri)
    if result is None:
        return []
    lines = result.source.split("\n")
    if not 0 <= params.position.line < len(lines):
        return []
    codec = ls.codec()
    at = codec.position_from_client_units(lines, params.position)
    items = completion.complete(result, at.line, at.character)
    if not items:
        return []
    # Each item replaces the word being typed (not only inserts at the cursor): an edit from
    # the word's start to the cursor, or, for clients that can choose, to the word's end too.
    start, end = completion.word_at(result.source, at.line, at.character)

    def point(character: int) -> T.Position:
        return codec.position_to_client_units(lines, T.Position(at.line, character))

    typed = T.Range(point(start), point(min(at.character, end)))
    whole = T.Range(typed.start, point(end))
    caps = ls.client_capabilities.text_document
    item_caps = caps and caps.completion and caps.completion.completion_item
    both = bool(item_caps and item_caps.insert_replace_support)

    # Nothing typed, right after a word the grammar reads as whole (a year, a date, an
    # amount): the next word goes after a space, not glued to it (`2027is`).
    text = lines[at.line]
    space = " " if start == at.character > 0 and _GLUES.match(text, at.character - 1) else ""

    def edit(label: str) -> T.TextEdit | T.InsertReplaceEdit:
        label = space + label
        if both:
            return T.InsertReplaceEdit(new_text=label, insert=typed, replace=whole)
        return T.TextEdit(range=typed, new_text=label)

    return [T.CompletionItem(label=i.label, kind=_completion_kind(i), detail=i.detail,
                             text_edit=edit(i.label))
            for i in items]


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
def format_document(ls: PlanServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
    """The whole document in `incentive fmt`'s layout, as one edit; none when it is already
    canonical or does not parse (its syntax errors are published as diagnostics)."""
    uri = params.text_document.uri
    source = ls.workspace.get_text_document(uri).source
    try:
        result = format_text(document_path(uri), source)
    except FormatterBug as bug:  # fmt refuses to write such a file, and so does the editor
        ls.window_show_message(T.ShowMessageParams(type=T.MessageType.Error, message=str(bug)))
        return []
    if not result.changed:
        return []
    lines = source.split("\n")
    end = ls.codec().position_to_client_units(
        lines, ServerTextPosition(len(lines) - 1, len(lines[-1])))
    return [T.TextEdit(range=T.Range(start=T.Position(line=0, character=0), end=end),
                       new_text=result.formatted)]


def main() -> int:
    """Serve over stdin and stdout until the client says exit."""
    server.start_io()
    return 0
