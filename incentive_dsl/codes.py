"""The registry of diagnostic codes: what each code means, why it matters for payouts, and a
wrong plan fragment (or data file, for the `D-` codes of data files) next to its fix.

It backs `incentive explain-code CODE` and docs/diagnostics.md, which is generated from it:

    python -m incentive_dsl.codes > docs/diagnostics.md

Tests keep them in step (tests/test_codes.py, tests/test_golden_check.py): every code the
package can emit has an entry here; every entry of the file, syntax, check and versions layers
is shown by a golden file (tests/golden/syntax/, tests/golden/check/); the wrong and fixed data
files of the data layer are loaded and give (or no longer give) their code; docs/diagnostics.md
equals render_markdown().
"""

from __future__ import annotations

import difflib
import textwrap

import attrs

FILE, SYNTAX, CHECK, VERSIONS, DATA, LEDGER = ("file", "syntax", "check", "versions", "data",
                                               "ledger")

LAYERS = {
    FILE: ("Reading files", "Found before parsing: the file cannot be read as a plan file. "
           "Nothing else in it is checked."),
    SYNTAX: ("Syntax", "Found while parsing. Each block is parsed on its own, so an error in "
             "one block never hides the errors of the next; within a block, the lines after an "
             "error are parsed again without the line it is on, so a second mistake in the "
             "same block is reported too. The blocks that parse are checked; a block with "
             "syntax errors is left out."),
    CHECK: ("Checking a plan", "Found by `incentive check` in a file that parses: names, units, "
            "tier tables, shares, periods, quotas, payout and worked examples. Warnings (`W-`) "
            "do not fail the check."),
    VERSIONS: ("Checking versions of a plan", "Found across files: files whose plan headers "
               "share a name are versions of one plan, checked together when they are given to "
               "one `incentive check`. Only files without errors take part."),
    DATA: ("Data files and runs", "Found in the data, not in the plan, so `check` never "
           "reports them. The `D-` codes are found while data files (events, roster, quotas, FX "
           "rates, territory indexes, or a CRM export read through a mapping file) are loaded, "
           "by `incentive run`, `explain`, `diff` and `incentive data check`, before anything is "
           "evaluated: any error among them stops the command, nothing is paid (exit code 1, or "
           "2 when every error is `D-FILE`); warnings and notes do not. Each points at the file, "
           "line and column of the cell in question; the file formats are in docs/data.md and "
           "docs/mapping.md. `E-DATA` and `W-DATA` are found while a checked plan is evaluated "
           "on loaded data."),
    LEDGER: ("The payout ledger", "Found by `incentive close`, `run --ledger` and `incentive "
             "ledger` in the ledger file (docs/ledger.md). Each names the ledger file and, "
             "where one is at fault, the record (`lines #12 (seq 40)`); nothing is written to "
             "the ledger when one is reported. Exit code 1 for a broken ledger, 2 for a file "
             "that is no ledger or a period that is no pay period, 4 when the ledger refuses."),
}


@attrs.frozen
class Code:
    """One diagnostic code. `bad` and `fixed` are short fragments (one or more lines) in the
    language `lang`: plan text, or for data codes the data file `file` (CSV, a mapping's TOML,
    or a command line). `severities` lists what a data code can be reported as; other codes are
    errors, or warnings when they start with W-."""

    code: str
    title: str
    layer: str
    explanation: str
    bad: str
    fixed: str
    lang: str = "plan"
    file: str | None = None
    severities: tuple[str, ...] = ()

    @property
    def severity(self) -> str:
        if self.severities:
            return " or ".join(self.severities)
        return "warning" if self.code.startswith("W-") else "error"

    def label(self, word: str, markdown: bool = False) -> str:
        """'Wrong:' or, for a data file, 'Wrong (events.csv):'."""
        if self.file is None:
            return f"{word}:"
        return f"{word} (`{self.file}`):" if markdown else f"{word} ({self.file}):"


def _entry(code: str, title: str, layer: str, explanation: str, bad: str, fixed: str) -> Code:
    return Code(code, title, layer, " ".join(explanation.split()),
                textwrap.dedent(bad).strip("\n"), textwrap.dedent(fixed).strip("\n"))


def _ledger(code: str, title: str, explanation: str, bad: str, fixed: str) -> Code:
    """An entry for a code of the ledger: `bad` and `fixed` are command lines."""
    return attrs.evolve(_entry(code, title, LEDGER, explanation, bad, fixed), lang="text")


def _data(code: str, title: str, severities: str, file: str | None, explanation: str, bad: str,
          fixed: str, lang: str = "csv") -> Code:
    """An entry for a code found in data files: `bad` and `fixed` are the file `file` (for CSV,
    a whole small file: its header and rows), or command lines when `file` is None."""
    return attrs.evolve(_entry(code, title, DATA, explanation, bad, fixed), lang=lang,
                        file=file, severities=tuple(severities.split(" or ")))


_ENTRIES = [
    # ------------------------------------------------------------------ reading files
    _entry("E-FILE", "the file cannot be read", FILE, """
        The path names no file, names a directory or a data file (`.csv`, `.tsv`, `.jsonl`,
        `.json`, `.toml`: the plan and the data swapped), or a file that is unreadable or
        larger than 50 MB; or, where one plan is run, a directory without plan files or one
        holding different plans (a directory is read as the versions of one plan). Nothing in it is checked, so none of its rules could be paid or
        reviewed. The command exits with 2 when every error is of this kind.""", """
        $ incentive check plans/enterprise_ae_2026.plan   # renamed last week
        """, """
        $ incentive check plans/enterprise_ae.plan
        """),
    _entry("E-ENCODING", "the file is binary or not UTF-8", FILE, """
        Plan files are UTF-8 text. A file saved by a spreadsheet or word processor in another
        encoding (Windows-1252, Latin-1) or a binary file cannot be read reliably: an accented
        name or a currency sign could change meaning, so nothing in the file is checked.""", """
        bonus club "Pr\\xe9sident's club"   # saved as Windows-1252: byte 0xe9
        """, """
        bonus club "Président's club"      # saved as UTF-8
        """),
    # ------------------------------------------------------------------ syntax
    _entry("E-SYNTAX", "a line does not follow its form", SYNTAX, """
        The line does not read as any form the language knows: a missing % sign, a currency
        sign instead of a code, a colon, a misspelt keyword. The message says what was
        expected and the hint shows the form of the line. A plan with syntax errors is not
        checked further, so no rule in it can pay.""", """
        credit bookings "New-business bookings"
          on deal booked
          split by role AE 70, SE 30%
        """, """
        credit bookings "New-business bookings"
          on deal booked
          split by role AE 70%, SE 30%
        """),
    _entry("E-BLOCK", "a line at the left margin starts no known block", SYNTAX, """
        Every line at the left margin starts a block (plan, fields, quota, credit, measure,
        commission, bonus, spiff, stage reward, activity reward, pool, override, clawback,
        compensation, payout, example). A misspelt block keyword, or a block line that lost its
        indentation, would otherwise silently drop a rule from the plan.""", """
        comission core "Core commission"
          on bookings
          rate 8%
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
        """),
    _entry("E-INDENT", "indentation is wrong", SYNTAX, """
        Indentation says which block a line belongs to: two spaces per level, no tabs. A tab,
        an indented line before any block, a line indented to no level above, a line indented
        under one that takes no indented lines, or the rows of a tier table written at the level
        of its header would attach a line to the wrong rule.""", """
        commission core "Core commission"
          on bookings
        \trate 8%
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
        """),
    _entry("E-DEPTH", "an expression is nested too deeply", SYNTAX, """
        Expressions may nest at most 100 levels (parentheses, operators). Deeper input, usually
        generated by a tool, is refused rather than risked: checking and evaluating a plan
        must always finish quickly. Name the parts as measures instead. For the same reason a
        measure may be defined through a chain of at most 32 measures (each reading the
        next).""", """
        measure attainment = ((((((((((bookings)))))))))) / quota bookings   # ... 101 deep
        """, """
        measure attainment = bookings / quota bookings
        """),
    # ------------------------------------------------------------------ plan and blocks
    _entry("E-PLAN", "no plan header, or two in one file", CHECK, """
        A plan file holds exactly one plan: one `plan` header with its currency and effective
        range. Without it no rule has a currency or dates; with two, it is unclear which rules
        belong to which plan. Put each plan, or each version of a plan, in its own file.""", """
        quota bookings "Bookings quota"
          250,000 USD per quarter
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        quota bookings "Bookings quota"
          250,000 USD per quarter
        """),
    _entry("E-MISSING", "a required line is missing", CHECK, """
        A block lacks a line it cannot do without: the header's currency or effective range, a
        credit's `on` line, a commission's base or rate, a bonus schedule, a SPIFF's amount, a
        pool's sharing rule, a clawback's window. Nothing money-critical is implicit, so the
        checker does not guess it.""", """
        commission core "Core commission"
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-REPEATED", "a line is given twice", CHECK, """
        A line that may appear once in a block (a rate, a currency, a schedule, the payout
        block itself) is given twice. Which one pays? Rather than pick one, the checker asks
        for one line; the note points at the first.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          rate 9%
        """, """
        commission core "Core commission"
          on bookings
          rate 9%
        """),
    _entry("E-DUPLICATE", "a name or value is declared twice", CHECK, """
        Two rules, credits or measures share a name, a role or field is declared twice, a
        built-in field is redeclared, a payee is described twice from one date in an example, a
        payee is named twice in an example's recorded split, a stage is rewarded twice in one
        block, or a clawback's `reverse` line names a component twice (it would be reversed
        twice). Statements, diffs and clawbacks cite rules by name,
        so a name must mean one thing; the note points at the first declaration.""", """
        commission core "Core commission (AE)"
          for role AE
          on bookings
          rate 8%

        commission core "Core commission (SE)"
          for role SE
          on bookings
          rate 3%
        """, """
        commission core_ae "Core commission (AE)"
          for role AE
          on bookings
          rate 8%

        commission core_se "Core commission (SE)"
          for role SE
          on bookings
          rate 3%
        """),
    # ------------------------------------------------------------------ names
    _entry("E-NAME", "an unknown name", CHECK, """
        A credit, measure, quota, rule, stage, activity or channel is named but not declared,
        usually a typo; the hint says "did you mean ...?". A quota's value is written
        `quota NAME`, so a bare quota name is reported too. An unknown name would otherwise
        pay nothing, silently.""", """
        measure attainment = bookings / quota bookngs
        """, """
        measure attainment = bookings / quota bookings
        """),
    _entry("E-FIELD", "an unknown record or field, or a field value of the wrong type", CHECK, """
        Conditions read deal, payee and activity fields: `deal.product`, `payee.territory`.
        The field must be built in or declared in the `fields` block, and an example's deal
        must give a declared field a value of its type (one of the listed values, money, a
        number ...). A misspelt field would make a filter match no deal.""", """
        credit bookings "New-business bookings"
          on deal booked where deal.prodcut is "P3"
        """, """
        fields
          deal.product text

        credit bookings "New-business bookings"
          on deal booked where deal.product is "P3"
        """),
    _entry("E-ROLE", "an undeclared role, or one the plan does not apply to", CHECK, """
        Roles named in `for role`, quotas, splits and examples must be declared in the header's
        `roles` line and, when the plan says `applies to role ...`, be among those. A typo in a
        role would leave its reps out of a rule, or in a rule of a plan they are not on.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31
          roles AE, SE

        bonus club "Club kicker"
          for role Ae
          step on attainment per year
            at 120% pay 10,000 USD
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31
          roles AE, SE

        bonus club "Club kicker"
          for role AE
          step on attainment per year
            at 120% pay 10,000 USD
        """),
    _entry("E-CONTEXT", "used where it has no meaning", CHECK, """
        Some things only exist in some places. A deal's fields exist while one deal is looked
        at (an `on` line's `where`, an aggregate's `where`); credits, measures and quotas are
        totals for a period (measures, `when` lines, bonus amounts). A deal field in a `when`
        line, or a measure in a SPIFF's `where`, has no single value, so it cannot decide a
        payout. Activities cannot be split or attributed by touches.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          when deal.product is "P3"
        """, """
        credit p3_bookings "P3 bookings"
          on deal booked where deal.product is "P3"

        commission core "Core commission"
          on p3_bookings
          rate 8%
        """),
    _entry("E-FUNCTION", "an unknown function or wrong arguments", CHECK, """
        The functions are sum, count, average, min and max. Aggregates take one credit (or
        `activities`, which can only be counted) with an optional `where`; min and max also
        take two or more values of one kind. Spreadsheet names such as `avg` or `total` get a
        "did you mean".""", """
        measure deal_size = avg(bookings)
        """, """
        measure deal_size = average(bookings)
        """),
    _entry("E-CYCLE", "a measure or a forecast quota depends on itself", CHECK, """
        Measures that are defined in terms of each other, or a quota forecast from a measure
        that itself uses that quota, have no value to start from: evaluation could not finish,
        or would depend on the order of computation.""", """
        quota bookings "Bookings quota"
          forecast 110% of trailing average of attainment over 4 quarters

        measure attainment = bookings / quota bookings
        """, """
        quota bookings "Bookings quota"
          forecast 110% of trailing average of bookings over 4 quarters

        measure attainment = bookings / quota bookings
        """),
    _entry("E-ORDER", "a rule reads what a later rule pays", CHECK, """
        Rules are computed in a fixed order: stage and activity rewards, SPIFFs, commissions,
        then bonuses, pools and overrides, each kind in file order. A rule that reads another
        rule's earnings (directly or through a measure) must come after it; otherwise it would
        see nothing of them and pay on a wrong premise.""", """
        measure club_earned = club

        commission core "Core commission"
          on bookings
          rate 8%
          when club_earned > 0 USD

        bonus club "Club kicker"
          step on bookings per year
            at 1,000,000 USD pay 10,000 USD
        """, """
        measure core_earned = core

        commission core "Core commission"
          on bookings
          rate 8%

        bonus club "Club kicker"
          step on bookings per year
            at 1,000,000 USD pay 10,000 USD
          when core_earned > 50,000 USD
        """),
    # ------------------------------------------------------------------ units and values
    _entry("E-UNIT", "a value of the wrong unit", CHECK, """
        Money carries a currency, percentages a % sign, counts are counts. `8` where `8%` was
        meant is a 100-fold overpayment; a cap of `150,000` with no currency, money plus a
        percentage, or a yes/no value used as an amount cannot be paid correctly. The checker
        refuses the plan instead of guessing the unit.""", """
        commission core "Core commission"
          on bookings
          rate 8
          cap 150,000 per year
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
          cap 150,000 USD per year
        """),
    _entry("E-CURRENCY-MIX", "two currencies, or not the plan currency", CHECK, """
        Every amount in a plan is in the plan currency; deals in other currencies are converted
        when they are loaded. An amount in another currency (a cap in EUR in a USD plan), or
        arithmetic across two currencies, would pay the wrong amount by the exchange rate.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        commission core "Core commission"
          on bookings
          rate 8%
          cap 140,000 EUR per year
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        commission core "Core commission"
          on bookings
          rate 8%
          cap 150,000 USD per year
        """),
    _entry("E-COMPARE", "values that cannot be compared", CHECK, """
        A comparison needs two values of one kind: attainment (a percentage) with a
        percentage, money with money of the same currency. `attainment >= 1.2` or
        `deal.amount >= 50,000` compares different units, and an order (`>=`) on names such as
        segments has no meaning. `in` tests a date against a period.""", """
        bonus club "Club kicker"
          step on attainment per year
            at 120% pay 10,000 USD
          when attainment >= 1.2
        """, """
        bonus club "Club kicker"
          step on attainment per year
            at 120% pay 10,000 USD
          when attainment >= 120%
        """),
    _entry("E-CONDITION", "not a condition where one is needed", CHECK, """
        `when`, `where`, `if`, `and`, `or` and `not` need conditions (yes or no). `when
        attainment` does not say when: reaching what? A condition that is really an amount
        would decide every payout the same way.""", """
        bonus club "Club kicker"
          step on attainment per year
            at 120% pay 10,000 USD
          when attainment
        """, """
        bonus club "Club kicker"
          step on attainment per year
            at 120% pay 10,000 USD
          when attainment reaches 100%
        """),
    _entry("E-CONSTANT", "a value that must be fixed depends on data", CHECK, """
        Tier bounds, thresholds, caps, floors, draws and an example's expected values are
        written as fixed amounts, so a reviewer can read what the plan pays without running
        it. A cap of "10% of bookings" or a threshold taken from a measure changes with the
        data.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          cap 10% of bookings per year
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
          cap 150,000 USD per year
        """),
    _entry("E-RANGE", "a value outside its allowed range", CHECK, """
        A date range that ends before it starts, a negative cap or floor, a clawback of more
        than 100% or of a 0-day window, a 100% holdback, a 0% overlay. Each would either pay
        nothing or pay more than was earned. Also any value beyond the limits every plan keeps
        (docs/language.md, "Limits"): a number with more than 15 digits before the decimal
        point or 12 after it, a date outside the years 1900 to 2999, a duration of more than
        100 years. Such values are refused where they are written, so evaluation never meets
        an amount it cannot keep exact or a date outside the calendar.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-12-31 to 2027-01-01
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31
        """),
    _entry("E-DATE", "not a calendar date", CHECK, """
        Dates are written 2027-03-31 and must exist: 2027-02-30 or 2027-06-31 do not. A
        window or an example built on a date that does not exist has no defined start or
        end.""", """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          during 2027-02-30 to 2027-03-31
          pay 500 USD
        """, """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          during 2027-03-01 to 2027-03-31
          pay 500 USD
        """),
    _entry("E-PERIOD", "not a period", CHECK, """
        Periods are written 2027-03 (a month), 2027-Q1, 2027-H2, 2027 or FY2027 (with a fiscal
        year). `2027-Q5`, `2027-Q12` or `2027-13` name no period, so an expectation or a
        condition on them could never be met; `2027-3` and `2027-q1` are not how periods are
        spelt (the message says which period was meant).""", """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q5 is 8,000 USD
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-SHARES", "shares that do not total 100%", CHECK, """
        The shares of a role split, the weights of position attribution, the legs of a payout
        schedule and the recorded split of an example deal must total exactly 100%, with each
        event named once; a credit is split or attributed by touches, not both. Shares over
        100% pay more than the deal; under 100%, part of every deal pays no one. Credit on top
        of a split is an overlay.""", """
        credit bookings "New-business bookings"
          on deal booked
          split by role AE 100%, SE 30%
        """, """
        credit bookings "New-business bookings"
          on deal booked
          split by role AE 100%
          overlay role SE at 30%
        """),
    # ------------------------------------------------------------------ limits and periods
    _entry("E-LIMIT-SCOPE", "a cap or floor where it cannot apply", CHECK, """
        Caps and floors belong on the rules that pay. A floor is a guaranteed minimum per
        period, never per deal or in total; bonuses, pools, overrides, activity rewards and
        the payout block are not paid per deal, so they cannot be capped per deal. The
        payout's per-deal limit would otherwise be applied to nothing.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          floor 100 USD per deal
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
          floor 500 USD per month
        """),
    _entry("E-LIMIT-PERIOD", "a cap or floor shorter than the rule's period", CHECK, """
        A rule measured per quarter (its tier table, accelerator or schedule) only knows what
        it pays at the end of the quarter; a monthly cap on it would have to cut in before the
        amount is known. Limit it per quarter or per a longer period.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
          cap 10,000 USD per month
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
          cap 30,000 USD per quarter
        """),
    _entry("E-PERIOD-FIT", "a period that does not fit the plan", CHECK, """
        A period longer than the plan's effective range (a yearly cap in a plan for the first
        half of the year) would be measured on part of a year; a draw given per quarter when
        pay is monthly does not match any pay period.""", """
        plan "Enterprise AE H1 2027"
          currency USD
          effective 2027-01-01 to 2027-06-30

        commission core "Core commission"
          on bookings
          rate 8%
          cap 75,000 USD per year
        """, """
        plan "Enterprise AE H1 2027"
          currency USD
          effective 2027-01-01 to 2027-06-30

        commission core "Core commission"
          on bookings
          rate 8%
          cap 75,000 USD per half
        """),
    _entry("E-PAY-PERIOD", "a pay frequency without the day its periods are counted from",
           CHECK, """
        Bi-weekly pay periods are fortnights, and which fortnights depends on the payroll
        calendar: the plan states the first day of one of them (any one; the others follow
        every 14 days, before and after). Monthly, semi-monthly, quarterly, half-yearly and
        yearly periods start on fixed days, so for them a start day is an error.""", """
        payout
          paid biweekly
        """, """
        payout
          paid biweekly from 2027-01-04
        """),
    # ------------------------------------------------------------------ tier tables
    _entry("E-TIER-MODE", "the tier table does not say marginal or retroactive", CHECK, """
        Marginal tiers pay each tier's rate on the part inside the tier; retroactive tiers pay
        the reached tier's rate on everything. Past quota the two differ by thousands, so the
        plan must say which: there is no default.""", """
        commission core "Core commission"
          on bookings
          rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-TIER-PERIOD", "no period for a tier table or accelerator", CHECK, """
        Attainment accumulates over a period: per month, quarter or year gives very different
        tiers for the same deals. A table keyed on a measure or credit, and every accelerator,
        says which period.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment
            from 0% to 100% at 8%
            from 100% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-TIER-START", "the first tier does not start at 0", CHECK, """
        Values below the first bound would have no rate: the first part of every quota would
        earn nothing, by accident. If that is intended, write a 0% tier for it.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 50% to 100% at 8%
            from 100% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 50% at 0%
            from 50% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-TIER-GAP", "a gap between two tiers", CHECK, """
        A tier starts above where the previous one ends, so values in between have no rate:
        a rep between 100% and 110% attainment would earn nothing on that part.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 110% to 150% at 12%
            from 150% at 15%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% to 150% at 12%
            from 150% at 15%
        """),
    _entry("E-TIER-OVERLAP", "two tiers overlap", CHECK, """
        A tier starts below where the previous one ends, so values in between are in two
        tiers: paid twice under marginal rates, or at an undefined rate.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 90% to 150% at 12%
            from 150% at 15%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% to 150% at 12%
            from 150% at 15%
        """),
    _entry("E-TIER-ORDER", "bounds or thresholds do not increase", CHECK, """
        A tier must end above where it starts, and the thresholds of a bonus schedule must
        increase from row to row. A reversed row is almost always a typo, and which rate
        applies would be undefined.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 150% to 100% at 12%
            from 150% at 15%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% to 150% at 12%
            from 150% at 15%
        """),
    _entry("E-TIER-OPEN", "a tier table's open end is wrong", CHECK, """
        Only the last tier may be open-ended, and it must be: a closed last tier leaves values
        above it with no rate (the best months would earn nothing past the top bound); an
        open tier in the middle hides the tiers after it.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% to 150% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-TIER-KEY-UNIT", "a bound or threshold in the wrong unit", CHECK, """
        Bounds and thresholds are in the unit of what the table (or accelerator, or bonus
        schedule) is keyed on: percentages for attainment, money for a credit. `100` where
        `100%` was meant, or bookings amounts on an attainment key, put every tier in the
        wrong place.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0 to 100 at 8%
            from 100 at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-TIER-EMPTY", "a tier table with no rows", CHECK, """
        The table has a header (and perhaps its boundary rule) but no `from ... at ...` rows,
        so the commission would pay nothing.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            each bound belongs to the tier above
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            each bound belongs to the tier above
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-RATE", "a rate and a tier table together", CHECK, """
        A commission has a flat rate or a tier table, not both: a flat rate left next to a new
        table would make it unclear which one pays.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
        """),
    _entry("E-ACCELERATOR", "an accelerator or decelerator that goes the wrong way", CHECK, """
        An accelerator raises the rate above a threshold (a factor of at least 1x, `above`); a
        decelerator lowers it below one (at most 1x, `below`). An "accelerator" of 0.5x, or one
        below a threshold, would cut pay where the plan document promises more.""", """
        commission core "Core commission"
          on bookings
          rate 8%
          accelerate 1.5x by attainment per quarter below 50%
        """, """
        commission core "Core commission"
          on bookings
          rate 8%
          decelerate 0.5x by attainment per quarter below 50%
        """),
    # ------------------------------------------------------------------ quotas
    _entry("E-QUOTA", "a quota both forecast and given", CHECK, """
        A quota is either forecast from history or given as values (or read from data), not
        both: a rep's target must have one source.""", """
        quota bookings "Bookings quota"
          250,000 USD per quarter
          forecast 110% of trailing average of bookings over 4 quarters
        """, """
        quota bookings "Bookings quota"
          forecast 110% of trailing average of bookings over 4 quarters
        """),
    _entry("E-QUOTA-OVERLAP", "two quota values apply at the same time", CHECK, """
        Two values of one quota apply to the same role on the same day, typically when a
        raised quota is added without ending the old one. Attainment, and so every tier,
        would depend on which value is picked.""", """
        quota bookings "Bookings quota"
          250,000 USD per quarter for role AE from 2027-01-01
          300,000 USD per quarter for role AE from 2027-07-01 to 2027-12-31
        """, """
        quota bookings "Bookings quota"
          250,000 USD per quarter for role AE from 2027-01-01 to 2027-06-30
          300,000 USD per quarter for role AE from 2027-07-01 to 2027-12-31
        """),
    _entry("E-RAMP", "ramp steps out of order", CHECK, """
        A ramp lists the first months of a new hire's tenure in order: month 1, month 2,
        month 3 ... A skipped month would leave that month's quota at 100% for a rep who is
        still ramping.""", """
        quota meetings "Meetings quota"
          40 per month
          ramp month 1 at 25%, month 3 at 75%
        """, """
        quota meetings "Meetings quota"
          40 per month
          ramp month 1 at 25%, month 2 at 50%, month 3 at 75%
        """),
    _entry("E-FORECAST", "a forecast over no history", CHECK, """
        A forecast looks back over a whole number of periods, at least one. Over 0 quarters
        there is nothing to forecast from.""", """
        quota bookings "Bookings quota"
          forecast 110% of trailing average of bookings over 0 quarters
        """, """
        quota bookings "Bookings quota"
          forecast 110% of trailing average of bookings over 4 quarters
        """),
    _entry("E-FORECAST-HISTORY", "too little history for the forecast method", CHECK, """
        A linear trend needs at least two periods; a seasonal forecast looks one year back, so
        it needs a year of history. With less, the quota would be a guess.""", """
        quota bookings "Bookings quota"
          forecast seasonal naive of bookings over 6 months
        """, """
        quota bookings "Bookings quota"
          forecast seasonal naive of bookings over 12 months
        """),
    # ------------------------------------------------------------------ clawbacks and payout
    _entry("E-CLAWBACK", "a clawback reverses something that does not pay, or twice", CHECK, """
        A clawback reverses payouts of commissions, SPIFFs or rewards, named by their rule
        names. A credit, a measure or an unknown name has nothing to reverse, so the clawback
        would silently never take anything back. A component reversed by two clawbacks whose
        roles and `during` windows overlap would be reversed twice for a deal cancelled soon
        after booking (both cancellation windows start at the booking).""", """
        clawback churn "Early churn"
          when deal cancelled within 90 days of booking
          reverse bookings at original amounts
        """, """
        clawback churn "Early churn"
          when deal cancelled within 90 days of booking
          reverse core at original amounts
        """),
    _entry("E-DRAW", "a draw that contradicts itself", CHECK, """
        A non-recoverable draw is never owed back, so it cannot also be forgiven; a reader
        would not know whether the rep owes it.""", """
        payout
          paid monthly
          draw 2,000 USD per month non-recoverable forgiven on termination
        """, """
        payout
          paid monthly
          draw 2,000 USD per month recoverable from excess forgiven on termination
        """),
    _entry("E-ADVANCE", "an advance without its recovery, or with a draw", CHECK, """
        An advance is paid whatever was earned and is owed back, so the plan must say how it
        is recovered (`recover advances from later pay`). Recovery and forgiveness lines need
        an advance to apply to, and a plan pays a draw or an advance, not both: both would be
        recovered from the same later pay.""", """
        payout
          paid monthly
          advance 3,000 USD per month for the first 3 months of employment
        """, """
        payout
          paid monthly
          advance 3,000 USD per month for the first 3 months of employment
          recover advances from later pay at most 50% of each payout
        """),
    # ------------------------------------------------------------------ examples
    _entry("E-EXAMPLE", "a worked example is incomplete", CHECK, """
        A worked example must be runnable: each payee has a role, each booking says who booked
        it and for how much, a deal is booked before it is cancelled, invoiced or collected,
        and the example expects at least one value. Otherwise `incentive test` cannot show
        the reviewer what the plan pays.""", """
        example "One deal in the first quarter"
          payee ana from 2027-01-01
          deal D1 booked 2027-02-10 by ana
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-EXAMPLE-PAYEE", "an example names a payee it does not describe", CHECK, """
        Every payee an example's deals, managers and expectations name must be described by a
        `payee` line in that example, with a role and start date; a typo in a name would test
        nobody.""", """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by anna amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-EXAMPLE-RULE", "an expectation names no rule, credit or measure", CHECK, """
        `expect NAME ...` names a paying rule, a credit or a measure of the plan by its name
        (not its label), or `total` or `paid`. A clawback has no amount of its own: expect
        the rule it reverses.""", """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core_commission for ana in 2027-Q1 is 8,000 USD
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-EXAMPLE-PERIOD", "an expectation outside the plan's dates", CHECK, """
        An example's periods must lie inside the plan's effective range; the plan pays nothing
        outside it, so the expectation could only fail. With a fiscal year, `2027-Q1` means
        fiscal quarter 1 of FY2027.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2026-Q4 is 8,000 USD
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-EXAMPLE-DATE", "an example event outside the plan's dates", CHECK, """
        An example is run over the plan's effective range, so an event dated outside it (often
        the wrong year) is never used and the expectations fail, or pass with 0. An event
        before the plan is allowed where it is read as history: by a forecast quota, as the
        booking of a deal with later events, or in an expected period reaching back to it; an
        event after the plan only in an expected period reaching forward to it.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2026-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    _entry("E-EXAMPLE-FX", "an example amount in a currency it has no rate for", CHECK, """
        Every amount is converted to the plan currency with a rate in force on the day it is
        converted (language §5.3). An example's rates are its own `fx` lines: an amount in
        another currency with no such line dated on or before that day would stop the
        example's run.""", """
        example "A deal in euros"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 EUR
          expect core for ana in 2027-Q1 is 8,640 USD
        """, """
        example "A deal in euros"
          payee ana role AE from 2027-01-01
          fx 1 EUR is 1.08 USD from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 EUR
          expect core for ana in 2027-Q1 is 8,640 USD
        """),
    _entry("E-EXAMPLE-UNIT", "an expected value of the wrong unit", CHECK, """
        An expected payout or credit is money in the plan currency; an expected measure has
        the measure's unit (attainment is a percentage). `8,000` without a currency or
        attainment `40` where 40% was meant can never match.""", """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000
          expect attainment for ana in 2027-Q1 is 40
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
          expect attainment for ana in 2027-Q1 is 40%
        """),
    _entry("W-EXAMPLE-PRECISION", "an expected amount finer than the currency is paid in",
           CHECK, """
        `incentive test` compares an expected amount with the amount paid after rounding both
        to the currency's minor unit (the cent for USD, none for JPY), since that is what is
        paid. An expected amount with more decimals is compared rounded, so it also passes
        for every other amount that rounds to the same cent: `8,000.004 USD` passes for
        8,000.00 USD. Usually a slip; write the amount as it is paid.""", """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000.004 USD
        """, """
        example "One deal in the first quarter"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 100,000 USD
          expect core for ana in 2027-Q1 is 8,000 USD
        """),
    # ------------------------------------------------------------------ warnings
    _entry("W-UNUSED", "a quota, credit or measure is never used", CHECK, """
        Something is declared but no rule or measure uses it, often a leftover from last
        year's plan or a sign that a rule names the wrong thing. It pays nothing. Only
        reported when the file has no errors (a misspelt reference would make its target look
        unused).""", """
        quota se_bookings "SE bookings quota"
          400,000 USD per quarter
        """, """
        quota se_bookings "SE bookings quota"
          400,000 USD per quarter

        measure se_attainment = bookings / quota se_bookings

        bonus se_club "SE club"
          for role SE
          step on se_attainment per year
            at 120% pay 5,000 USD
        """),
    _entry("W-CANCELLED-CREDIT", "the plan does not say whether cancelled deals count", CHECK, """
        The plan claws back cancelled deals, but a credit on booked deals does not say whether
        a cancelled deal still counts toward attainment (and so toward the tier of later
        deals, bonuses and team measures). Plans differ here, so the plan must say: `cancelled
        deals keep their credit` (the deal's credit stays; the clawback reverses earnings
        only) or `cancelled deals lose their credit` (the credit is taken back on the
        cancellation date; later deals are rated on the lower attainment, and the earnings
        are reversed by the clawback). Unstated, the credit is kept.""", """
        credit bookings "Bookings"
          on deal booked

        clawback churn "Early churn"
          when deal cancelled within 90 days of booking
          reverse core at original amounts
        """, """
        credit bookings "Bookings"
          on deal booked
          cancelled deals lose their credit

        clawback churn "Early churn"
          when deal cancelled within 90 days of booking
          reverse core at original amounts
        """),
    _entry("W-NEVER", "a condition on a value the field never has", CHECK, """
        A field declared `one of ...` (or a role, a stage, an activity kind) is compared with a
        value it cannot have, usually a typo: the condition can never hold, so the rule pays
        nothing. The commands that pay (`run`, `explain`, `statement`, `estimate`, `close`,
        `finance`) report it too, unlike the other warnings.""", """
        fields
          deal.type one of "new_business", "renewal", "expansion"

        credit bookings "New-business bookings"
          on deal booked where deal.type is "new_busines"
        """, """
        fields
          deal.type one of "new_business", "renewal", "expansion"

        credit bookings "New-business bookings"
          on deal booked where deal.type is "new_business"
        """),
    _entry("W-TIER-UNREACHABLE", "a tier that a cap makes unreachable", CHECK, """
        The period cap is reached before this tier starts, so its rate can never pay; the plan
        document promises an accelerator that no rep can earn. Raise the cap or remove the
        tier.""", """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
          cap 20,000 USD per quarter   # 8% of a 250,000 USD quota
        """, """
        commission core "Core commission"
          on bookings
          marginal rates by attainment per quarter
            from 0% to 100% at 8%
            from 100% at 12%
          cap 35,000 USD per quarter
        """),
    _entry("W-BIDI", "an invisible character reorders the text on screen", CHECK, """
        Unicode bidirectional control characters (U+202A to U+202E, U+2066 to U+2069, U+200E,
        U+200F, U+061C) are invisible and change the order in which a line is shown, not the
        order in which it is read: a reviewer can see `"P1" # P3` while the plan compares with
        a different text. They have no use in a plan; delete them.""", """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P1‮"
          pay 500 USD
        """, """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P1"
          pay 500 USD
        """),
    _entry("W-NO-EXAMPLE", "a plan without a worked example", CHECK, """
        Worked examples let a reviewer see what the author expects a rep to earn, next to the
        rules; `incentive test` runs them. A plan without one has no check that the rules pay
        what the plan document says.""", """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31
        """, """
        plan "Enterprise AE 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31

        example "Crossing into the accelerator"
          payee ana role AE from 2027-01-01
          deal D1 booked 2027-02-10 by ana amount 300,000 USD
          expect core for ana in 2027-Q1 is 26,000 USD
        """),
    _entry("W-SPIFF-WINDOW", "a SPIFF without a date window", CHECK, """
        A SPIFF is a short incentive; without a `during` window it pays for the whole plan,
        which is rarely what a launch promotion meant.""", """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          pay 500 USD
        """, """
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          during 2027-04-01 to 2027-06-30
          pay 500 USD
        """),
    # ------------------------------------------------------------------ compensation
    _entry("E-COMPENSATION-OVERLAP", "two base salaries or target incentives at once", CHECK, """
        Two lines of one kind (base salary, or target incentive) apply to the same role on the
        same day, typically when a raise is added without ending the old amount. Statements
        would show, and bonuses written as shares of the target incentive would pay, whichever
        was picked. A line for named roles overrides one without roles.""", """
        compensation
          base salary 90,000 USD per year for role AE
          base salary 96,000 USD per year for role AE from 2027-07-01
        """, """
        compensation
          base salary 90,000 USD per year for role AE from 2027-01-01 to 2027-06-30
          base salary 96,000 USD per year for role AE from 2027-07-01
        """),
    _entry("E-NO-BASE-SALARY", "a target incentive reads a base salary the plan lacks", CHECK,
           """
        A target incentive written as a share of `base_salary` needs a base salary line for
        every role it covers, on every day of it while the plan is in effect (a base salary
        that ends in June needs the line that follows it); without one it would be a share of
        nothing, and the rep's target (and any bonus paying it) would be zero.""", """
        compensation
          base salary 90,000 USD per year for role AE
          target incentive 40% of base_salary per year for role AE, SE
        """, """
        compensation
          base salary 90,000 USD per year for role AE
          base salary 110,000 USD per year for role SE
          target incentive 40% of base_salary per year for role AE, SE
        """),
    # ------------------------------------------------------------------ versions
    _entry("E-VERSION-OVERLAP", "two versions of a plan overlap", VERSIONS, """
        Files whose plan headers share a name are versions of one plan. If a version starts
        before the previous one ends (or the previous one has no end date), deals in the
        overlap would be paid under both.""", """
        # enterprise_ae_2027_1.plan
        plan "Enterprise AE 2027"
          effective 2027-01-01 to 2027-06-30
        # enterprise_ae_2027_2.plan
        plan "Enterprise AE 2027"
          effective 2027-06-01 to 2027-12-31
        """, """
        # enterprise_ae_2027_1.plan
        plan "Enterprise AE 2027"
          effective 2027-01-01 to 2027-05-31
        # enterprise_ae_2027_2.plan
        plan "Enterprise AE 2027"
          effective 2027-06-01 to 2027-12-31
        """),
    _entry("E-VERSION-GAP", "a gap between two versions of a plan", VERSIONS, """
        A version starts later than the day after the previous one ends: deals booked in
        between would be under no plan and earn nothing.""", """
        # enterprise_ae_2027_1.plan
        plan "Enterprise AE 2027"
          effective 2027-01-01 to 2027-06-30
        # enterprise_ae_2027_2.plan
        plan "Enterprise AE 2027"
          effective 2027-07-15 to 2027-12-31
        """, """
        # enterprise_ae_2027_1.plan
        plan "Enterprise AE 2027"
          effective 2027-01-01 to 2027-06-30
        # enterprise_ae_2027_2.plan
        plan "Enterprise AE 2027"
          effective 2027-07-01 to 2027-12-31
        """),
    _entry("E-VERSION-PAY", "versions of a plan paid on other pay periods", VERSIONS, """
        Each version of a plan pays what it earned even after it ends, and the ledger closes a
        plan's pay periods by their names, so all versions pay on the same pay periods: the
        same frequency, and for bi-weekly pay the same first day. A plan paid otherwise from
        a date is a new plan with its own name.""", """
        # commission_h1.plan
        plan "Inside sales"
          effective 2027-01-01 to 2027-06-30
        payout
          paid monthly
        # commission_h2.plan
        plan "Inside sales"
          effective 2027-07-01 to 2027-12-31
        payout
          paid biweekly from 2027-07-05
        """, """
        # commission_h1.plan
        plan "Inside sales"
          effective 2027-01-01 to 2027-06-30
        payout
          paid monthly
        # commission_h2.plan
        plan "Inside sales"
          effective 2027-07-01 to 2027-12-31
        payout
          paid monthly
        """),
    # ------------------------------------------------------------------ data files
    _data("D-FILE", "a data file cannot be read", "error", None, """
        A data file named on the command line or in a mapping file does not exist, is a
        directory or not a regular file, cannot be read, or is not a .csv or .jsonl file (a
        spreadsheet saved as .xlsx, for example). Nothing is evaluated, so nobody is paid from
        incomplete data; the command exits with 2 when every error is of this kind.""", """
        $ incentive run plans/enterprise_ae.plan --deals data/deals.xlsx --roster data/roster.csv
        """, """
        $ incentive run plans/enterprise_ae.plan --deals data/deals.csv --roster data/roster.csv
        """, lang="text"),
    _data("D-ENCODING", "a data file is not UTF-8 text", "error", "roster.csv", """
        Data files are UTF-8 text. A file saved by a spreadsheet in another encoding
        (Windows-1252, Latin-1, UTF-16 "Unicode text") or a binary file cannot be read
        reliably: an accented name could turn into another payee's id, so the file is refused
        and the diagnostic points at the first byte that cannot be read. Below, `\\xe9` stands
        for the byte 0xE9 that Windows-1252 writes for é; save the file as "CSV UTF-8".""", """
        payee_id,role,start
        ana,AE,2027-01-01
        jos\\xe9,SE,2027-01-01
        """, """
        payee_id,role,start
        ana,AE,2027-01-01
        josé,SE,2027-01-01
        """),
    _data("D-SYNTAX", "a data file cannot be split into rows", "error", "events.csv", """
        In a CSV file a quote opened in a cell is never closed, so the rest of the file would
        be read as one value; in a JSON Lines file a line is not a JSON object. Every row after
        the problem is in doubt, so the file is not used: close the quote (amounts with commas
        must be quoted whole, "250,000.00").""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"80,000.00",USD,ana
        E2,D2,2027-02-11,booked,"250,000.00,USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"80,000.00",USD,ana
        E2,D2,2027-02-11,booked,"250,000.00",USD,ana
        """),
    _data("D-EMPTY", "a data file has no rows", "error or warning", "quotas.csv", """
        The file is empty, or has a header and no rows: usually an export that failed or a
        filter that matched nothing. The run goes on without its records (here every quota
        comes from the plan's own values), so check that nothing is missing before paying. An
        empty roster is an error: with no payee, nobody can be paid.""",
          """
        payee_id,quota,period,amount,currency
        """, """
        payee_id,quota,period,amount,currency
        ana,bookings,2027-Q1,"250,000",USD
        """),
    _data("D-COLUMN", "a column is missing, unknown or misplaced", "error or warning",
          "events.csv", """
        The header lacks a column the rows need (an amount for bookings), names a column close
        to a known one ('ammount': an error, because its values would silently be lost), names
        a column twice, or a row has more or fewer cells than the header (often an amount with
        a comma that is not quoted); a column the plan does not use at all is only a warning
        and is ignored. A required cell left empty (a booking without its owner) is reported
        here too.""", """
        event_id,deal_id,date,kind,ammount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-BIDI", "an invisible character reorders a line on screen", "warning", "events.csv",
          """
        A Unicode bidirectional control character (U+202A to U+202E, U+2066 to U+2069, U+200E,
        U+200F, U+061C) is invisible and changes the order in which a line is shown, not the
        order in which it is read: a spreadsheet can show one owner or amount while the loader
        reads another. The row is read as written; delete the character. The first ten in a
        file are reported.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,‮ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-DATE", "a date is not a calendar date", "error", "events.csv", """
        Dates are written YYYY-MM-DD. A date such as 02/10/2027 could be 10 February or 2
        October, and the day decides the period a deal is credited in, its tier, its FX rate
        and its clawback window, so it is never guessed; a day that does not exist
        (2027-02-30) is refused too.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,02/10/2027,booked,"100,000.00",USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-AMOUNT", "an amount is not a plain number", "error", "events.csv", """
        Amounts are digits with an optional decimal point, thousands optionally grouped by
        commas: 100000.50 or 100,000.50. A currency symbol, a decimal comma, letters or a sign
        would make the amount ambiguous, so it is refused rather than read wrongly. Amounts are
        never negative: an amendment gives the deal's new total, and the interpreter credits
        the difference.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"$100,000.00",USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-NUMBER", "a term, rate or index is not a usable number", "error",
          "territories.csv", """
        A contract term in months must be a whole number of at least 1, an FX rate a number
        above zero, a territory index a percentage (110%) or a multiplier (1.10). A plain 110
        is refused, because read as a multiplier it would multiply the territory's quotas by
        110.""", """
        territory,index
        east,110
        """, """
        territory,index
        east,110%
        """),
    _data("D-KIND", "an event kind is unknown", "error", "events.csv", """
        Each row's kind is one of booked, stage, activity, touch, amended, invoiced, collected,
        cancelled. A CRM's own word (closed won, payment, churned) is not guessed: the kind
        decides which rules the event pays under, so the hint names the kind meant.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,closed won,"100,000.00",USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-CURRENCY", "a currency code is wrong or has no exchange rate", "error", "fx.csv",
          """
        A currency is three capital letters (USD, not usd or $). With a plan, every amount in
        another currency needs a rate to the plan currency dated on or before the amount's
        date (for a quota row, the end of its period): a rate never applies to earlier days,
        and rates are used only in the direction written. Below, a EUR deal is booked
        2027-03-05 and the only rate starts in April. Reported once per currency, at the
        earliest amount that lacks a rate.""", """
        currency,target,date,rate
        EUR,USD,2027-04-01,1.10
        """, """
        currency,target,date,rate
        EUR,USD,2027-01-01,1.08
        EUR,USD,2027-04-01,1.10
        """),
    _data("D-PERIOD", "a quota row's period is not a period", "error", "quotas.csv", """
        A quota row names its period as plans do: 2027-Q1, 2027-03, 2027-H1, 2027 or FY2027.
        A period the tool cannot read would leave the payee on the plan's default quota, with
        a different attainment, so the row is refused.""", """
        payee_id,quota,period,amount,currency
        ana,bookings,2027-q1,"250,000",USD
        """, """
        payee_id,quota,period,amount,currency
        ana,bookings,2027-Q1,"250,000",USD
        """),
    _data("D-SPLITS", "a deal's recorded split does not add up", "error", "events.csv", """
        The splits of a booking are payee:percent pairs that must total exactly 100%, each
        payee once, each share above 0%. A split that totals 90% or 110% would credit the deal
        short or twice over, so the booking is refused until the CRM split is corrected.""",
          """
        event_id,deal_id,date,kind,amount,currency,owner,splits
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana,ana:60;sam:30
        """, """
        event_id,deal_id,date,kind,amount,currency,owner,splits
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana,ana:70;sam:30
        """),
    _data("D-FIELD", "a custom field's value does not fit its declared type", "error",
          "events.csv", """
        A column the plan declares as a custom field (fields / deal.type one of ...) holds a
        value of another type, or a text that is not one of the listed values, or money in a
        currency other than the plan's. A misspelt value would silently fail every rule that
        tests it, so the row is refused, with the closest listed value as a hint. Through a CRM
        mapping, a value missing from a lookup table is reported here too.""", """
        event_id,deal_id,date,kind,amount,currency,owner,type
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana,new_busines
        """, """
        event_id,deal_id,date,kind,amount,currency,owner,type
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana,new_business
        """),
    _data("D-DUPLICATE", "the same record is given twice", "error", "events.csv", """
        Two rows say the same thing twice: an event id used twice (also across files), a deal
        booked twice, two roster rows of a payee from the same date, two quota rows for one
        payee, quota and period, two rates for one currency pair and date, two indexes for one
        territory. Counting both would pay twice, so the second is refused. A change to a
        booked deal is an 'amended' event with the new total.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        E2,D1,2027-03-01,booked,"120,000.00",USD,ana
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        E2,D1,2027-03-01,amended,"120,000.00",USD,ana
        """),
    _data("D-ORPHAN", "an event of a deal that is not booked", "error", "events.csv", """
        A cancellation, amendment, invoice or collection names a deal that has no booking, or
        is dated before the deal's booking. It could not be tied to the deal's commission or
        clawed back correctly, so it is refused: check the deal id and the dates (a booking and
        an event of the same day are fine).""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        E2,D-1,2027-04-02,collected,"100,000.00",USD,
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        E2,D1,2027-04-02,collected,"100,000.00",USD,
        """),
    _data("D-PAYEE", "a payee is not on the roster, or not employed then", "error or warning",
          "events.csv", """
        An event's owner, a split partner, a roster manager or a quota's payee is not on the
        roster (an error, with the closest id as a hint): their credit could go to nobody. It is
        reported once per payee, at the first event (quota row, roster row) naming them, with
        the number of the others, which are refused too. A payee on the roster who is not
        employed on the event's date is a warning: the plan does not credit them for it, so
        check the date and the roster's start and end.""", """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,anna
        """, """
        event_id,deal_id,date,kind,amount,currency,owner
        E1,D1,2027-02-10,booked,"100,000.00",USD,ana
        """),
    _data("D-STAGE", "a stage, activity or channel the plan does not list", "error",
          "events.csv", """
        When a plan lists its stages, activities or touch channels, every stage, activity kind
        and channel in the data must be one of them, spelt exactly (case matters). A stage
        spelt 'Demo' where the plan says "demo" would never reach a stage reward or a
        pipeline credit, so the row is refused. Through a CRM mapping, a value of the stage
        column that the mapping does not list is reported here too.""", """
        event_id,deal_id,date,kind,owner,stage
        E1,D1,2027-01-20,stage,ana,Demo
        """, """
        event_id,deal_id,date,kind,owner,stage
        E1,D1,2027-01-20,stage,ana,demo
        """),
    _data("D-QUOTA", "a quota row names no quota of the plan", "error or warning",
          "quotas.csv", """
        A quota row names a quota the plan does not declare. A name close to one of the plan's
        ('booking' for bookings) is an error, because the payee would silently keep the
        plan's default quota; rows of a shared quota table for quotas this plan does not have
        at all are ignored, with one warning.""", """
        payee_id,quota,period,amount,currency
        ana,booking,2027-Q1,"250,000",USD
        """, """
        payee_id,quota,period,amount,currency
        ana,bookings,2027-Q1,"250,000",USD
        """),
    _data("D-ROSTER", "the roster contradicts itself", "error", "roster.csv", """
        A payee ends before they start, a roster row takes effect before the payee starts or
        after the row's end, or managers form a circle (mia reports to ana and ana to mia, on
        some day). Roll-up credit, team measures and overrides follow the reporting
        lines, so the rows involved are refused until the roster is fixed.""", """
        payee_id,role,start,end,manager
        mia,MGR,2027-01-01,,ana
        ana,AE,2027-01-01,,mia
        """, """
        payee_id,role,start,end,manager
        mia,MGR,2027-01-01,,
        ana,AE,2027-01-01,,mia
        """),
    _data("D-ROLE", "a payee's role is not one of the plan's roles", "warning", "roster.csv",
          """
        A roster role the plan does not list ('Ae' where the plan says AE, or a role of
        another plan): the payee is not covered by this plan and earns nothing under it. A
        warning, since a shared roster lists people of other plans; check the spelling.""", """
        payee_id,role,start
        ana,Ae,2027-01-01
        """, """
        payee_id,role,start
        ana,AE,2027-01-01
        """),
    _data("D-TERRITORY", "a payee's territory has no index", "warning", "roster.csv", """
        With a territories file, a payee's territory is not in it (often a spelling). A quota
        normalised by territory index then counts the territory at 100%, which changes the
        payee's attainment: add the territory or correct the roster.""", """
        payee_id,role,start,territory
        ana,AE,2027-01-01,wst
        """, """
        payee_id,role,start,territory
        ana,AE,2027-01-01,west
        """),
    _data("D-MAP", "the mapping file is wrong", "error", "crm.toml", """
        The mapping file that reads a CRM export is not TOML, has an unknown or missing key, a
        value of the wrong kind, an attribute given both as a column and as a fixed value, or a
        field type that disagrees with the plan. The export's rows are not read until the
        mapping is right, so no deal is credited from a half-understood export.""", """
        [deals]
        file = "data/sales_pipeline.csv"
        id = "opportunity_id"
        ownr = "sales_agent"
        """, """
        [deals]
        file = "data/sales_pipeline.csv"
        id = "opportunity_id"
        owner = "sales_agent"
        """, lang="toml"),
    _data("D-ALIAS", "an alias of a mapping applied, or never applies", "note or warning",
          "crm.toml", """
        A mapping's alias reads a value as another ('GTXPro' as 'GTX Pro'). Each alias that
        applies is reported as a note, with the number of rows and their lines, so the
        correction is on the record; an alias that applies to no row is a warning (a
        misspelt alias would leave the values it was meant to correct unread).""", """
        [deals.values.product]
        "GTX-Pro" = "GTX Pro"
        """, """
        [deals.values.product]
        GTXPro = "GTX Pro"
        """, lang="toml"),
    _data("D-MAPPED", "what a mapping made of the export's rows", "note or warning",
          "crm.toml", """
        Notes that say what the mapping did: for each stage value, how many rows became
        bookings, lost deals or open deals and which stages they reached; defaults filled in;
        stages left out for want of a date; payees without deals; managers added. A stage value
        listed in the mapping that no row has is a warning (a misspelt stage value). Read
        them before paying: they are the mapping's choices.""", """
        [deals.stages]
        Won = { outcome = "booked", date = "close_date" }
        "Closed Won" = { outcome = "booked", date = "close_date" }
        """, """
        [deals.stages]
        Won = { outcome = "booked", date = "close_date" }
        """, lang="toml"),
    # ------------------------------------------------------------------ running on data
    _entry("E-DATA", "the data cannot be evaluated", DATA, """
        Found while running a checked plan on deal data, not by `check`: something the run
        needs is missing from the data, such as an exchange rate for a deal's currency on or
        before its date (loading the data reports most of these first, as D-CURRENCY), or an
        expression moves a date outside the calendar. No payout is computed rather than a wrong
        one.""", """
        # deal D1 is in EUR, booked 2027-02-10; the FX data has no EUR rate on or before then
        """, """
        # the FX data gets a EUR to USD rate dated on or before 2027-02-10
        """),
    _entry("W-DATA", "the run used a documented default for missing data", DATA, """
        Found while running a plan on data: a value the plan asks for is missing and the
        documented default was used, such as a payee's territory with no row in the
        territory index table (100% is used). The payout is computed, but check the data.""", """
        quota sourced "Sourced pipeline quota"
          forecast 110% of trailing average of sourced_bookings over 4 quarters
          normalize by territory index   # payee sam's territory "west" has no index in the data
        """, """
        quota sourced "Sourced pipeline quota"
          forecast 110% of trailing average of sourced_bookings over 4 quarters
          normalize by territory index   # the territory data gives "west" an index
        """),
    # ------------------------------------------------------------------ the payout ledger
    _ledger("E-LEDGER-FILE", "the ledger file cannot be used", """
        The path names no ledger, a directory, a pipe or a device, a symbolic link to nothing
        or in a loop, an SQLite database of another program, or a place where no ledger can be
        created (`.incentive` beside the plan is a file). Nothing is read or written; the
        command exits with 2.""", """
        $ incentive run plans/ae.plan --data data --ledger plans/.incentive/ledger.db
        """, """
        $ incentive run plans/ae.plan --data data --ledger plans/.incentive/ledger.sqlite
        """),
    _ledger("E-LEDGER-BROKEN", "the ledger fails verification", """
        A record was edited, deleted or damaged: its content no longer matches its hash, the
        chain has a gap, a period's seal does not match its records, a record cannot be
        read at all, or the file was cut short or damaged (`database disk image is
        malformed`). Closing or running on it could pay a tampered amount as a real
        adjustment, so `close` and `run --ledger` refuse it (exit 1) and `ledger verify`
        names the first broken record and every problem (`--format json` every broken
        record). Restore the ledger from a backup.""", """
        $ sqlite3 plans/.incentive/ledger.sqlite "DROP TRIGGER lines_no_update;
            UPDATE lines SET amount = '30000.00' WHERE id = 4"
        $ incentive close 2027-04 plans/ae.plan --data data     # error[E-LEDGER-BROKEN]
        """, """
        $ cp backup/ledger.sqlite plans/.incentive/ledger.sqlite
        $ incentive ledger verify --plan plans/ae.plan --head 3b1a98f66b902954
        $ incentive close 2027-04 plans/ae.plan --data data
        """),
    _ledger("E-LEDGER-REFUSED", "the ledger refuses to close the period", """
        Pay periods are closed once, in order, and never reopened: the period is already
        closed, an earlier one is still open, or a pay period of it has not ended (it ends
        after today, or after the data's last event, so what its last days earn could still
        be missing; `--early` closes it when the data is known to be complete). Nothing is
        recorded (exit 4). Corrections to a closed period are paid as prior-period
        adjustments when the next one closes.""", """
        $ incentive close 2027-03 plans/ae.plan --data data    # 2027-02 is still open
        """, """
        $ incentive close 2027-02 plans/ae.plan --data data
        $ incentive close 2027-03 plans/ae.plan --data data
        """),
    _ledger("E-LEDGER-BUSY", "another process holds the ledger", """
        Another close (or another program) held the ledger longer than the timeout (30
        seconds). Nothing is recorded (exit 4); run the command again when it is done.""", """
        $ incentive close 2027-03 plans/ae.plan --data data &
        $ incentive close 2027-03 plans/ae.plan --data data    # while the first one writes
        """, """
        $ incentive close 2027-03 plans/ae.plan --data data
        """),
    _ledger("E-LEDGER-PLAN", "the plan does not continue the ledger's history", """
        The ledger records closes under the plan's name and pay period labels. A renamed plan
        would find nothing closed and pay its closed periods again; a plan now paid quarterly
        instead of monthly (or with another fiscal year or currency) would reverse every closed
        month. Such closes and runs are refused (exit 4). Keep the plan's name and pay periods;
        a plan paid otherwise is a new plan with its own name and ledger. The first close of a
        plan in a ledger that holds other plans needs `--new-plan`.""", """
        $ sed -i 's/plan "Enterprise AE"/plan "Enterprise AE 2.0"/' plans/ae.plan
        $ incentive close 2027-04 plans/ae.plan --data data
        """, """
        $ sed -i 's/rate 8%/rate 9%/' plans/ae.plan    # the name stays "Enterprise AE"
        $ incentive close 2027-04 plans/ae.plan --data data
        """),
    _ledger("E-LEDGER-PERIOD", "the period holds no pay period the plan can close", """
        `close PERIOD` closes the pay periods that end in the period: a month of a plan paid
        monthly, a quarter's three months, the fortnights that end in a quarter of a plan paid
        bi-weekly; a quarter of a plan paid quarterly, not a month of it, which is part of one
        pay period (the error names it). A period whose pay periods all start after the plan's
        effective range (`2028-Q1` of a plan in effect in 2027) is refused too: closing is for
        good, and the plan (or its new version) that pays them closes them; of a period
        reaching past the range, the pay periods in it are closed and the rest left open.
        Nothing is recorded (exit 2).
        `ledger show --period` gives the same error for a name that is no period (`2027-Q5`,
        or `2027-q1`, to be written in capitals) and for a period in which no closed plan's
        pay period ends (`2027-02` of a plan paid quarterly).""", """
        $ incentive close 2027-02 plans/quarterly.plan --data data
        """, """
        $ incentive close 2027-Q1 plans/quarterly.plan --data data
        """),
]

CODES: dict[str, Code] = {e.code: e for e in _ENTRIES}


def lookup(code: str) -> Code | None:
    """The entry for `code` (case and surrounding spaces do not matter), or None."""
    return CODES.get(code.strip().upper())


def suggest(code: str) -> str | None:
    """The closest known code, for a "did you mean" hint."""
    wanted = code.strip().upper()
    if wanted and not wanted.startswith(("E-", "W-", "D-")):
        wanted = "E-" + wanted.removeprefix("E").removeprefix("-")
    close = difflib.get_close_matches(wanted, list(CODES), n=1, cutoff=0.6)
    return close[0] if close else None


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def explain(code: str) -> str | None:
    """The text `incentive explain-code CODE` prints, or None for an unknown code."""
    e = lookup(code)
    if e is None:
        return None
    wrapped = textwrap.fill(e.explanation, width=88)
    return (f"{e.code} ({e.severity}): {e.title}\n\n{wrapped}\n\n"
            f"{e.label('Wrong')}\n\n{_indent(e.bad)}\n\n"
            f"{e.label('Right')}\n\n{_indent(e.fixed)}\n\n"
            f"More: docs/diagnostics.md#{anchor(e.code)}\n")


def anchor(code: str) -> str:
    """The GitHub-style anchor of a code's heading in docs/diagnostics.md."""
    return code.lower()


# ------------------------------------------------------------------------------ the document

_FORMAT = """\
## How a diagnostic looks

`incentive check` reports every problem of every file at once (in a file with syntax errors, the blocks that parse are checked), sorted by file, line and column.
Each diagnostic reads:

```text
PATH:LINE:COLUMN: SEVERITY[CODE]: MESSAGE
 LINE | the source line
      |    ^^^^ under the part in question
   = note: a second place involved (PATH:LINE:COLUMN)
     LINE | its source line
          | ^^^^^
   = hint: how to fix it
```

- `PATH:LINE:COLUMN` is where the problem starts; lines and columns count from 1.
- `SEVERITY` is `error`, `warning` or `note`. Errors fail the check (or stop a run); warnings
  are reported but do not, unless `incentive check --strict` is used; notes, from CRM
  mappings, record a choice the mapping made.
- `CODE` is one of the codes below; `incentive explain-code CODE` prints its entry.
- The source line is shown with carets (`^`) under the part in question.
- `= note:` lines name related places (the first declaration of a duplicate name, the tier
  before a gap, the other overlapping version), each with its own source line.
- `= hint:` says how to fix it when there is a likely fix ("did you mean 'bookings'?").

For example:

```text
plans/ae.plan:20:10: error[E-TIER-GAP]: gap between tiers: nothing covers 100% to 110%
 20 |     from 110% to 150% at 12%
    |          ^^^^
   = note: the tier before ends here (plans/ae.plan:19:5)
   19 |     from 0% to 100% at 8%
      |     ^^^^^^^^^^^^^^^^^^^^^
   = hint: start this tier at 100%
```

Text diagnostics go to standard error, followed by a count of errors and warnings.
`incentive check --format json` prints them to standard output instead, as
`{"format_version": 1, "diagnostics": [...]}`, each with `code`, `severity`, `message`,
`hint`, `path`, `line`, `column`, `end_line`, `end_column` and `related` (a list of
`message` with the same position fields).

## Exit codes

The same for every command:

| exit code | meaning |
| --- | --- |
| `0` | success: no errors (warnings may have been reported, unless `check --strict`); nothing to reformat (`fmt --check`); evaluated (`run`, `explain`); every worked example passes (`test`); a known code (`explain-code`) |
| `1` | problems found: errors in the plans or the data, warnings with `check --strict`, files that `fmt --check` would change, failing worked examples |
| `2` | usage error or unreadable input: a bad option, `--period` with `--from`/`--to`, a report window in which no pay period ends, no plan files in the paths given, a missing or unreadable plan file (`E-FILE`: for `check` and `fmt` even when other files have errors), data files of which every error is a missing or unreadable file (`D-FILE`), an unknown code for `explain-code` |
| `3` | internal error: a bug in incentive-dsl; rerun with `INCENTIVE_DEBUG=1` and report it with the input |
| `4` | refused by the ledger (`close`, `ledger`, and `run`, `explain`, `statement` with `--ledger`): a closed or out-of-order pay period, a renamed plan or other pay periods (`E-LEDGER-REFUSED`, `E-LEDGER-PLAN`), a ledger held past the timeout (`E-LEDGER-BUSY`); nothing was recorded |

A broken ledger (`E-LEDGER-BROKEN`) exits with 1, a file that is no ledger (`E-LEDGER-FILE`) or
a period that is no pay period (`E-LEDGER-PERIOD`) with 2.

A message that is not a diagnostic (a usage error, a file that cannot be written) begins with
the command as typed, as the usage errors of its options do: `incentive run: --data data: no
such directory`, `incentive data check: ...`, `incentive ledger show: ...`. Only a problem found
before the command is known (an argument holding a NUL character) begins with `incentive:`.
"""


def _table_row(e: Code) -> str:
    return f"| [`{e.code}`](#{anchor(e.code)}) | {e.severity} | {e.title} |"


def render_markdown() -> str:
    """docs/diagnostics.md: the diagnostic format, exit codes, and every code of CODES."""
    out = [
        "# Diagnostics",
        "",
        "<!-- Generated from incentive_dsl/codes.py by render_markdown(); do not edit by hand.",
        "     Refresh with:  python -m incentive_dsl.codes > docs/diagnostics.md",
        "     tests/test_codes.py fails when this file and the registry differ. -->",
        "",
        "Every problem `incentive` finds in a plan or in its data is a diagnostic with a code. "
        "This page explains each code in sales-ops terms: what it means, why it matters for "
        "payouts, and a wrong plan fragment (for data files, a wrong file) next to its fix. The "
        "same text is printed by `incentive explain-code CODE`.",
        "",
        _FORMAT,
        "## Codes at a glance",
        "",
    ]
    for layer, (title, _) in LAYERS.items():
        entries = [e for e in CODES.values() if e.layer == layer]
        out += [f"**{title}**", "", "| code | severity | what it means |",
                "| --- | --- | --- |", *map(_table_row, entries), ""]
    for layer, (title, intro) in LAYERS.items():
        out += [f"## {title}", "", intro, ""]
        for e in (e for e in CODES.values() if e.layer == layer):
            out += [f"### {e.code}", "", f"**{e.title}** ({e.severity})", "", e.explanation, "",
                    e.label("Wrong", markdown=True), "", f"```{e.lang}", e.bad, "```", "",
                    e.label("Right", markdown=True), "", f"```{e.lang}", e.fixed, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
