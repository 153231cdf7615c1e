"""Deterministic, seeded generator of realistic plan files for the `incentive check` benchmark.

    python bench/gen_plans.py OUT_DIR [--files 100] [--lines 200] [--seed 7]

Writes OUT_DIR/plan_000.plan ... (one plan per file, about --lines lines each) and prints the
number of files and lines. The same arguments always give byte-identical files.

Each plan is a regional compensation plan for 2027 in the style of plans/: a header (roles,
applies to, rounding, FX basis, stages, activities, channels, sometimes a fiscal year), custom
fields, quotas (money per quarter by role with proration and ramps, a count quota per month, a
forecast quota), credits (recorded, role and even splits, overlays, roll-ups, touch
attribution, `where` filters on the custom fields), measures (attainments, gaps, aggregates,
`if`), commissions (marginal and retroactive tier tables on attainment or the deal amount,
accelerators and decelerators, caps, `when`, roles, `during`), step and linear bonuses,
SPIFFs with windows, stage and activity rewards, a team pool, a manager override, clawbacks,
the payout block (schedule, holdback, draw) and worked examples. The blocks come in the order
of the shipped plans and are written in the canonical layout (`incentive fmt` leaves them
alone); every plan checks without errors.

Every tenth pair of files holds two versions of one plan (H1 and H2), so the check across
versions has work too.
"""

from __future__ import annotations

import argparse
import os
import random
import re

ROLES = ("VP", "MGR", "AE", "SE", "SDR", "CSM")
STAGES = ("discovery", "demo", "proposal", "technical_win", "negotiation")
ACTIVITIES = ("meeting", "qualified_demo", "call")
CHANNELS = ("email", "web", "partner", "rep", "event")
PRODUCTS = ("P1", "P2", "P3", "P4", "P5")
TYPES = ("new_business", "renewal", "expansion")
SEGMENTS = ("smb", "mid_market", "enterprise")
REGIONS = ("east", "west", "central", "emea", "apac", "latam", "north", "south")
PEOPLE = ("ana", "bob", "cy", "dan", "eve", "fay", "gus", "hal", "ivy", "jo", "kim", "lee",
          "mia", "ned", "oli", "pat")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
ROUNDING = ("half even per line", "half up per line", "half even per statement",
            "half down per line", "down per line")


def money(amount: int | float) -> str:
    if isinstance(amount, float) and not amount.is_integer():
        return f"{amount:,.2f} USD"
    return f"{int(amount):,} USD"


class PlanWriter:
    """Writes one plan, block by block, until it has about `target` lines."""

    def __init__(self, rnd: random.Random, index: int, target: int,
                 version: tuple[str, str, str] | None = None) -> None:
        self.rnd = rnd
        self.index = index
        self.target = target
        self.region = REGIONS[index % len(REGIONS)]
        self.version = version  # (plan name, start, end) when the file is one of two versions
        self.blocks: list[tuple[str, str, list[str]]] = []  # (kind, name, lines)
        self.credits: list[str] = []
        self.measures: dict[str, str] = {}  # name -> "percent" | "money" | "count"
        self.components: list[str] = []
        self.per_event: list[str] = []  # components paid per deal: clawbacks reverse these
        self.counter = 0

    # ------------------------------------------------------------------ helpers

    def name(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def lines(self) -> int:
        """Lines so far, with the blank lines between blocks (measures share one group)."""
        kept = self.kept()
        return sum(len(b) for _, _, b in kept) + len(self.groups(kept)) - 1

    def add(self, block: list[str], kind: str = "", name: str = "") -> None:
        self.blocks.append((kind, name, block))

    def groups(self, blocks=None) -> list[list[str]]:
        """The blocks as written: consecutive one-line measures without blank lines between
        them (the canonical layout)."""
        out: list[list[str]] = []
        previous = ""
        for kind, _, lines in (self.blocks if blocks is None else blocks):
            if kind == "measure" and previous == "measure":
                out[-1] = out[-1] + lines
            else:
                out.append(list(lines))
            previous = kind
        return out

    def long_unit(self) -> str:
        """The longest period a half-year version can measure (E-PERIOD-FIT otherwise)."""
        return "half" if self.version else "year"

    def pick(self, seq, k: int | None = None):
        if k is None:
            return self.rnd.choice(seq)
        return self.rnd.sample(list(seq), k)

    # ------------------------------------------------------------------ blocks

    def header(self) -> None:
        r = self.rnd
        if self.version:
            name, start, end = self.version
        else:
            name = f"{self.region.title()} field sales {self.index:03d} 2027"
            start, end = "2027-01-01", "2027-12-31"
        b = [f"# Regional plan {self.index:03d} ({self.region}): bookings commission with tiers,",
             "# milestone bonuses, launch SPIFFs, pre-sale rewards, a team pool and an override.",
             f'plan "{name}"',
             "  currency USD",
             f"  effective {start} to {end}"]
        if self.version:
            b.append(f'  version "2027.{1 if start.endswith("01-01") else 2}"')
        b += ["  roles " + ", ".join(ROLES),
              "  applies to role MGR, AE, SE, SDR",
              f"  rounding {r.choice(ROUNDING)}"]
        if r.random() < 0.5:
            b.append(f"  convert currencies at rate on {r.choice(['event date', 'period end'])}")
        b += ["  stages " + ", ".join(f'"{s}"' for s in STAGES),
              "  activities " + ", ".join(f'"{a}"' for a in ACTIVITIES),
              "  channels " + ", ".join(f'"{c}"' for c in CHANNELS)]
        self.add(b)

    def fields(self) -> None:
        self.add(["fields",
                  "  deal.type one of " + ", ".join(f'"{t}"' for t in TYPES),
                  "  deal.product one of " + ", ".join(f'"{p}"' for p in PRODUCTS),
                  "  deal.segment one of " + ", ".join(f'"{s}"' for s in SEGMENTS),
                  "  deal.seats count",
                  "  deal.discount percent",
                  "  deal.multi_year yes or no",
                  "  payee.quota_share percent"])

    def quotas(self) -> None:
        r = self.rnd
        ae, se = r.randrange(150, 400) * 1000, r.randrange(300, 600) * 1000
        b = ['quota bookings "Bookings quota"',
             f"  {money(ae)} per quarter for role AE from 2027-01-01 to 2027-06-30",
             f"  {money(ae + r.randrange(0, 60) * 1000)} per quarter for role AE from 2027-07-01",
             f"  {money(se)} per quarter for role SE",
             f"  {money(ae * 6)} per quarter for role MGR",
             f"  prorate by active {r.choice(['days', 'months'])}"]
        if r.random() < 0.6:
            b.append("  ramp month 1 at 25%, month 2 at 50%, month 3 at 75%")
        self.add(b, "quota", "bookings")
        self.add(['quota meetings "Meetings quota"',
                  f"  {r.randrange(20, 60)} per month for role SDR",
                  "  no proration"], "quota", "meetings")
        self.add(['quota pipeline "Sourced pipeline quota"',
                  f"  forecast {r.choice([100, 105, 110, 120])}% of trailing average of "
                  "sourced over 4 quarters",
                  "  normalize by territory index"], "quota", "pipeline")

    def credits_block(self) -> None:
        r = self.rnd
        self.add(['credit bookings "New-business bookings"',
                  '  on deal booked where deal.type is "new_business"',
                  "  split as recorded  # CRM splits; must total 100%",
                  "  overlay role SE at 100%",
                  "  roll up to managers"], "credit", "bookings")
        self.add(['credit renewals "Renewals and expansions"',
                  '  on deal booked where deal.type is one of ("renewal", "expansion")',
                  "  split by role AE 70%, SE 30%"], "credit", "renewals")
        self.add(['credit sourced "Sourced pipeline"',
                  "  on deal booked",
                  "  attribute by position 40% first, 20% middle, 40% last",
                  f"  digital touches credit owner at {r.choice([25, 50])}%"], "credit", "sourced")
        self.add(['credit large "Large deals"',
                  f"  on deal booked where deal.amount >= {money(r.randrange(80, 200) * 1000)} "
                  'and deal.segment is "enterprise"',
                  "  split evenly",
                  "  for role AE, SE"], "credit", "large")
        self.credits += ["bookings", "renewals", "sourced", "large"]
        for k in range(r.randint(1, 3)):
            product = PRODUCTS[k]
            name = f"{product.lower()}_bookings"
            self.add([f'credit {name} "{product} bookings"',
                      f'  on deal booked where deal.product is "{product}" and '
                      f"deal.discount <= {r.choice([10, 15, 20, 25])}%",
                      "  split as recorded" if r.random() < 0.5 else "  split evenly"],
                     "credit", name)
            self.credits.append(name)

    def measures_block(self) -> None:
        r = self.rnd
        lines = [
            ("attainment", "percent", "measure attainment = bookings / quota bookings"),
            ("renewal_share", "percent", "measure renewal_share = renewals / quota bookings"),
            ("blended", "percent",
             f"measure blended = (bookings + {r.choice([25, 50])}% of renewals) / quota bookings"),
            ("gap", "money", "measure gap = quota bookings - bookings"),
            ("meetings_held", "count",
             'measure meetings_held = count(activities where activity.kind is "meeting")'),
            ("meetings_attainment", "percent",
             "measure meetings_attainment = meetings_held / quota meetings"),
            ("pipeline_attainment", "percent",
             "measure pipeline_attainment = sourced / quota pipeline"),
            ("large_deals", "count",
             'measure large_deals = count(bookings where deal.segment is "enterprise")'),
            ("average_deal", "money", "measure average_deal = average(bookings)"),
            ("capped_attainment", "percent",
             f"measure capped_attainment = min(attainment, {r.choice([150, 200])}%)"),
            ("team_attainment", "percent",
             "measure team_attainment = if team bookings > 0 USD then team bookings / "
             "quota bookings else 0%"),
        ]
        for name, kind, text in lines:
            self.add([text], "measure", name)
            self.measures[name] = kind

    def tier_rows(self, key_kind: str, count: int) -> list[str]:
        r = self.rnd
        if key_kind == "percent":
            bounds = sorted(r.sample(range(10, 300, 10), count - 1))
            show = [f"{b}%" for b in [0, *bounds]]
        else:
            bounds = sorted(r.sample(range(10, 500, 10), count - 1))
            show = [money(b * 1000) for b in [0, *bounds]]
        rate = r.choice([2, 4, 5, 6, 8])
        rows = []
        for i, low in enumerate(show):
            rate_text = f"{rate}%" if r.random() < 0.8 else f"{rate}.5%"
            if i + 1 < len(show):
                rows.append(f"    from {low} to {show[i + 1]} at {rate_text}")
            else:
                rows.append(f"    from {low} at {rate_text}")
            rate += r.choice([1, 2, 3, 4])
        return rows

    def commission(self) -> None:
        r = self.rnd
        name = self.name("commission")
        base = r.choice(self.credits)
        b = [f'commission {name} "Commission on {base}"', f"  on {base}"]
        shape = r.random()
        if shape < 0.2:
            b.append(f"  rate {r.choice([3, 5, 6, 8])}%")
        elif shape < 0.7:
            mode = r.choice(["marginal", "retroactive"])
            key = r.choice(["attainment", "blended", "capped_attainment"])
            b.append(f"  {mode} rates by {key} per "
                     f"{r.choice(['quarter', self.long_unit(), 'half'])}")
            b.append(f"    each bound belongs to the tier {r.choice(['above', 'below'])}")
            b += self.tier_rows("percent", r.randint(3, 6))
        else:
            b.append(f"  {r.choice(['marginal', 'retroactive'])} rates by deal amount")
            b += self.tier_rows("money", r.randint(2, 5))
        if r.random() < 0.5:
            b.append(f"  accelerate {r.choice(['1.25x', '1.5x', '2x'])} by attainment per "
                     f"quarter above {r.choice([100, 110, 125])}%")
        if r.random() < 0.4:
            b.append(f"  decelerate {r.choice(['0.5x', '0.75x'])} by attainment per quarter "
                     f"below {r.choice([40, 50])}%")
        b.append(f"  cap {money(r.randrange(50, 300) * 1000)} per {self.long_unit()}")
        if r.random() < 0.3:
            b.append(f"  cap {money(r.randrange(10, 40) * 1000)} per deal")
        if r.random() < 0.4:
            b.append(f"  when {r.choice(['attainment', 'blended'])} reaches "
                     f"{r.choice([25, 40, 50])}% or large_deals >= 1")
        b.append(f"  for role {r.choice(['AE', 'AE, SE', 'SE'])}")
        self.add(b, "component", name)
        self.components.append(name)
        self.per_event.append(name)

    def bonus(self) -> None:
        r = self.rnd
        name = self.name("bonus")
        if r.random() < 0.6:
            key = r.choice(["attainment", "meetings_attainment", "pipeline_attainment"])
            b = [f'bonus {name} "Milestones on {key}"',
                 f"  step on {key} per {r.choice(['quarter', 'month', self.long_unit()])}"]
            level = r.choice([80, 90, 100])
            pay = r.randrange(5, 20) * 100
            for _ in range(r.randint(2, 4)):
                b.append(f"    at {level}% pay {money(pay)}")
                level += r.choice([10, 20, 25])
                pay += r.randrange(5, 30) * 100
        else:
            key = r.choice(["meetings_attainment", "attainment"])
            b = [f'bonus {name} "Linear bonus on {key}"',
                 f"  linear on {key} per {r.choice(['month', 'quarter'])}",
                 f"    from {r.choice([40, 50, 60])}% pay 0 USD",
                 f"    to {r.choice([100, 120])}% pay {money(r.randrange(5, 20) * 100)}"]
        if r.random() < 0.5:
            b.append(f"  when gap <= {money(r.randrange(0, 50) * 1000)} or renewal_share >= "
                     f"{r.choice([10, 20])}%")
        if r.random() < 0.5:
            b.append(f"  cap {money(r.randrange(10, 40) * 1000)} per {self.long_unit()}")
        self.add(b, "component", name)
        self.components.append(name)

    def spiff(self) -> None:
        r = self.rnd
        name = self.name("spiff")
        product = r.choice(PRODUCTS)
        first = 7 if self.version and self.version[1].endswith("07-01") else 1
        last = 4 if self.version and self.version[2].endswith("06-30") else 10
        month = r.randint(first, last)
        b = [f'spiff {name} "{product} launch"',
             f'  on deal booked where deal.product is "{product}" and deal.seats >= '
             f"{r.choice([5, 10, 25])}",
             f"  during 2027-{month:02d}-01 to 2027-{month + 2:02d}-28",
             f"  pay {r.choice(['', '1% of deal.amount + '])}{money(r.randrange(1, 10) * 100)}",
             f"  cap {money(r.randrange(2, 10) * 1000)} per quarter"]
        self.add(b, "component", name)
        self.components.append(name)
        self.per_event.append(name)

    def stage_reward(self) -> None:
        r = self.rnd
        name = self.name("presale")
        b = [f'stage reward {name} "Pre-sale milestones"']
        for stage in r.sample(STAGES[1:], r.randint(2, 4)):
            where = ' where deal.type is "new_business"' if r.random() < 0.3 else ""
            b.append(f'  on deal reaching "{stage}"{where} pay {money(r.randrange(1, 6) * 50)}')
        b.append(f"  cap {money(r.randrange(10, 30) * 100)} per quarter")
        if self.per_event and r.random() < 0.5:
            b.append(f"  net against {self.per_event[0]} when deal booked")
        self.add(b, "component", name)
        self.components.append(name)

    def activity_reward(self) -> None:
        r = self.rnd
        name = self.name("activities")
        self.add([f'activity reward {name} "Qualified demos and meetings"',
                  f'  on activity "qualified_demo" pay {money(r.randrange(5, 15) * 10)}',
                  f'  on activity "meeting" where payee.territory is "{self.region}" pay '
                  f"{money(r.randrange(1, 5) * 10)}",
                  f"  cap {money(r.randrange(10, 30) * 100)} per month",
                  "  for role SDR"], "component", name)
        self.components.append(name)

    def pool(self) -> None:
        r = self.rnd
        name = self.name("pool")
        self.add([f'pool {name} "Team pool"',
                  "  for role AE",
                  f"  fund if team_attainment >= 100% then {r.choice([1, 2])}% of team bookings "
                  "else 0 USD per quarter",
                  f"  share {r.choice(['by bookings', 'equally'])}",
                  f"  cap {money(r.randrange(20, 60) * 1000)} per quarter"], "component", name)
        self.components.append(name)

    def override(self) -> None:
        r = self.rnd
        name = self.name("override")
        self.add([f'override {name} "Manager override"',
                  "  for role MGR",
                  f"  pay {r.choice([1, 2, 3])}% of team bookings per quarter",
                  f"  when team_attainment reaches {r.choice([70, 80, 90])}%",
                  f"  cap {money(r.randrange(10, 40) * 1000)} per quarter"], "component", name)
        self.components.append(name)

    def clawback(self) -> None:
        r = self.rnd
        reversed_ = self.per_event[: r.randint(1, min(3, len(self.per_event)))]
        self.add([f'clawback {self.name("churn")} "Early churn"',
                  f"  when deal cancelled within {r.choice([60, 90, 120, 180])} days of booking",
                  f"  reverse {', '.join(reversed_)} at "
                  f"{r.choice(['', '50% of '])}original amounts"])

    def payout(self) -> None:
        r = self.rnd
        paid = r.choice(["monthly", "quarterly"])
        b = ["payout", f"  paid {paid}",
             r.choice(["  100% when booked", "  50% when booked, 50% when collected"])]
        if r.random() < 0.5:
            b.append(f"  hold back {r.choice([5, 10])}% until year end")
        if r.random() < 0.5:
            b.append(f"  draw {money(r.randrange(10, 30) * 100)} per {paid[:-2]} recoverable from "
                     f"excess for the first {r.choice([2, 3, 6])} months of employment")
        self.add(b)

    def example(self, k: int) -> None:
        r = self.rnd
        rep, se, mgr = r.sample(PEOPLE, 3)
        amount = r.randrange(20, 400) * 1000
        month = r.randint(1, 6) + (6 if self.version and self.version[1].endswith("07-01") else 0)
        quarter = (month - 1) // 3 + 1
        product = r.choice(PRODUCTS)
        b = [f'example "Case {k + 1}: a {product} deal in Q{quarter}"',
             f"  payee {mgr} role MGR from 2027-01-01",
             f"  payee {rep} role AE from 2027-01-01 manager {mgr}",
             f"  payee {se} role SE from 2027-01-01 manager {mgr}",
             f'  deal D{k + 1} stage "demo" 2027-{month:02d}-02 by {rep}',
             f"  deal D{k + 1} booked 2027-{month:02d}-{r.randint(10, 28):02d} by {rep} amount "
             f"{money(amount)} split {rep} 80%, {se} 20% type \"new_business\" product "
             f'"{product}" segment "{r.choice(SEGMENTS)}" seats {r.randint(1, 40)} '
             f"discount {r.choice([0, 5, 10])}%",
             f"  quota bookings for {rep} in 2027-Q{quarter} is {money(amount * 2)}"]
        for comp in r.sample(self.components, min(3, len(self.components))):
            who = r.choice([rep, se])
            b.append(f"  expect {comp} for {who} in 2027-Q{quarter} is "
                     f"{money(r.randrange(0, 200) * 100)}")
        if any(kind == "measure" and name == "attainment" for kind, name, _ in self.blocks):
            b.append(f"  expect attainment for {rep} in 2027-Q{quarter} is 40%")
        b.append(f"  expect total for {rep} in 2027-Q{quarter} is {money(amount // 20)}")
        self.add(b)

    # ------------------------------------------------------------------ the plan

    def write(self) -> str:
        r = self.rnd
        self.header()
        self.fields()
        self.quotas()
        self.credits_block()
        self.measures_block()
        makers = [self.commission, self.commission, self.bonus, self.spiff, self.stage_reward,
                  self.activity_reward, self.pool, self.override]
        for make in makers:
            make()
        # Room left for the clawback, the payout and the examples (about 25 lines).
        optional = [self.commission, self.bonus, self.spiff, self.commission, self.bonus,
                    self.spiff, self.stage_reward]
        while self.lines() < self.target - 40:
            r.choice(optional)()
        self.blocks = self.kept()
        self.clawback()
        self.payout()
        k = 0
        while self.lines() < self.target - 6 or k < 1:
            self.example(k)
            k += 1
        return "\n\n".join("\n".join(b) for b in self.groups()) + "\n"

    def kept(self) -> list[tuple[str, str, list[str]]]:
        """The blocks without the quotas, credits and measures no component uses (directly or
        through a measure): a real plan would not carry them (the checker warns: W-UNUSED)."""
        words = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
        used: set[str] = set()
        quotas: set[str] = set()
        pending = [line for kind, _, b in self.blocks if kind == "component" for line in b]
        definitions = {name: b for kind, name, b in self.blocks if kind in ("measure", "credit")}
        forecast_of = {name: b for kind, name, b in self.blocks if kind == "quota"}
        while pending:
            line = pending.pop()
            quotas.update(re.findall(r"quota ([A-Za-z_][A-Za-z0-9_]*)", line))
            for w in words.findall(line):
                if w in definitions and w not in used:
                    used.add(w)
                    pending.extend(definitions[w][1:] if definitions[w][0].startswith(
                        "credit") else [definitions[w][0].split("=", 1)[1]])
            for q in list(quotas):
                if q in forecast_of:
                    pending.extend(forecast_of.pop(q))
        return [(kind, name, b) for kind, name, b in self.blocks
                if kind not in ("measure", "credit", "quota") or
                (kind == "quota" and name in quotas) or name in used]


def generate(out_dir: str, files: int = 100, lines: int = 200, seed: int = 7) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i in range(files):
        rnd = random.Random(f"{seed}:{i}")
        version = None
        if i % 20 in (10, 11):  # every tenth pair: two versions of one plan
            name = f"Regional versions {i // 20:02d} 2027"
            version = (name, "2027-01-01", "2027-06-30") if i % 2 == 0 else \
                (name, "2027-07-01", "2027-12-31")
        text = PlanWriter(rnd, i, lines, version).write()
        path = os.path.join(out_dir, f"plan_{i:03d}.plan")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--files", type=int, default=100)
    p.add_argument("--lines", type=int, default=200, help="about this many lines per file")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    paths = generate(args.out_dir, args.files, args.lines, args.seed)
    total = sum(open(pth, encoding="utf-8").read().count("\n") for pth in paths)
    print(f"{len(paths)} plan files, {total} lines ({total / len(paths):.0f} per file) "
          f"in {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
