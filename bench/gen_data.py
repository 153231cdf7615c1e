"""Deterministic, seeded generator of realistic sales histories for incentive-dsl.

    python bench/gen_data.py OUT_DIR [--events N] [--payees P] [--start 2026-01-01]
                             [--years 2] [--seed 7] [--activity-share 0.25]
                             [--fields type,product,segment] [--plain-events NAME]

    # the benchmark sizes (bench/run_bench.py calls this itself and caches the result)
    python bench/gen_data.py /tmp/incentive-bench/100k --events 100000 --payees 300
    # the committed sample for the shipped plans (see plans/data/README.md)
    python bench/gen_data.py plans/data --events 16000 --payees 56 --start 2026-01-01 \
        --years 2 --seed 2027 --activity-share 0.45 --fields type,product \
        --plain-events events_plain.csv

Writes five CSV files in the formats of docs/data.md, plus `manifest.json` (the parameters
and the row counts), and with --plain-events a copy of the events without custom columns:

    events.csv       event_id,deal_id,date,kind,amount,currency,owner,splits,stage,activity,
                     channel,term_months + the custom deal fields chosen by --fields
                     (type, product, segment: on booked and stage rows)
    roster.csv       payee_id,role,start,end,manager,team,territory,effective_from
    quotas.csv       payee_id,quota,period,amount,currency
    fx.csv           currency,target,date,rate
    territories.csv  territory,index

What the history looks like:

- Organisation: one VP; managers (role MGR) each with a team of AEs, SEs and SDRs in one
  territory (east, west, central in USD; emea-north, emea-south in EUR; uk in GBP). Initial
  staff joined before the data starts; about 10% of ICs leave during the range (an `end` date)
  and most are replaced by a hire who starts a few weeks later; about 6% of AEs move to another
  team mid-range and about 8% of SDRs are promoted to AE (a second roster row with
  `effective_from`).
- Deals: created by a first touch or a discovery stage, owned by an AE active for the whole
  cycle; segment smb / mid_market / enterprise with log-normal amounts (medians 12k, 45k,
  180k in the deal's currency), type new_business / expansion / renewal, product P1..P4,
  term 12/24/36 months. Touches (email, web, partner: no owner; rep: an SDR or the AE) before
  booking; stages discovery, demo, proposal (and technical_win for mid-market and enterprise)
  before booking, occasionally a stage reached twice; about a third of deals are won
  (`booked`), the others stop at some stage. Won deals: splits on ~15% of mid/enterprise
  deals (rep + SE specialist, 80/20 or 75/25) and ~5% of all deals (two AEs of different
  territories, 50/50 or 60/40); amendments (~6%), cancellations (~5%, over half within 90 days
  of booking, with the 90- and 91-day boundaries present), yearly invoices over the term and
  collections 15-75 days after each invoice (some in two parts, a few never). Qualified demos
  by the sourcing SDR at the demo stage.
- Activities: meetings by SDRs and AEs and qualified demos by SDRs on working days; about
  `--activity-share` of all events.
- Quotas: a `bookings` quota per AE and SE per quarter of activity, calibrated to the expected
  new-business volume (so attainment spreads around 100%), in USD; FX: monthly EUR, GBP -> USD
  and USD, GBP -> EUR rates (a seeded random walk), dated the 1st of each month; territory
  indexes between 90% and 110%.

`--events` is a target: the generator aims at it and lands within a few percent (the count is
in manifest.json). Generation is streaming: deals are simulated day by day and their future
events wait in a heap of compact pre-rendered rows that is flushed in date order, so memory
is proportional to the deals in flight, not to the file (about 1,000,000 events a minute).
The output depends only on the arguments and the Python version (random.Random is seeded).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field

EVENT_HEADER = ["event_id", "deal_id", "date", "kind", "amount", "currency", "owner", "splits",
                "stage", "activity", "channel", "term_months", "type", "product", "segment"]
ROSTER_HEADER = ["payee_id", "role", "start", "end", "manager", "team", "territory",
                 "effective_from"]

# territory -> (currency, weight of headcount)
TERRITORIES = {"east": ("USD", 3), "west": ("USD", 3), "central": ("USD", 2),
               "emea-north": ("EUR", 2), "emea-south": ("EUR", 2), "uk": ("GBP", 2)}
TERRITORY_INDEX = {"east": "110%", "west": "105%", "central": "90%", "emea-north": "100%",
                   "emea-south": "95%", "uk": "100%"}
FX_START = {"EUR": 1.08, "GBP": 1.27}

SEGMENTS = {  # share of deals, median amount, sigma, win rate, cycle days (lo, hi), terms
    "smb": (0.50, 12_000, 0.6, 0.40, (20, 60), (12,)),
    "mid_market": (0.35, 45_000, 0.6, 0.32, (45, 120), (12, 12, 24)),
    "enterprise": (0.15, 180_000, 0.7, 0.28, (90, 240), (12, 24, 36)),
}
TYPES = (("new_business", 0.55), ("expansion", 0.25), ("renewal", 0.20))
PRODUCTS = (("P1", 0.40), ("P2", 0.30), ("P3", 0.15), ("P4", 0.15))
STAGES_SHORT = ("discovery", "demo", "proposal")
STAGES_LONG = ("discovery", "demo", "proposal", "technical_win")
DIGITAL = ("email", "web", "partner")

FIRST = ("ana", "bob", "cy", "dee", "eli", "fay", "gus", "hal", "ida", "jon", "kai", "lea",
         "max", "nia", "oto", "pia", "quin", "ray", "sam", "tia", "uma", "vic", "wes", "xia",
         "yan", "zoe", "abe", "bea", "cal", "dov", "eva", "finn", "gia", "hugo", "ines", "jay",
         "kim", "liv", "mo", "nat", "ola", "pat", "rex", "sia", "tom", "ugo", "val", "wyn")
LAST = ("k", "m", "r", "s", "t", "b", "d", "f", "g", "h", "l", "n", "p", "v", "w", "z")

# Events per deal, measured on generated data (used to turn --events into a deal rate).
EVENTS_PER_DEAL = 6.24


@dataclass
class Stint:
    """One roster row: a payee's role, team and territory from `since` (inclusive)."""

    role: str
    team: str
    manager: str
    territory: str
    since: dt.date


@dataclass
class Payee:
    id: str
    start: dt.date
    end: dt.date | None
    stints: list[Stint] = field(default_factory=list)

    def stint_on(self, day: dt.date) -> Stint | None:
        if day < self.start or (self.end is not None and day > self.end):
            return None
        current = None
        for s in self.stints:
            if s.since <= day:
                current = s
        return current or self.stints[0]

    def role_on(self, day: dt.date) -> str | None:
        s = self.stint_on(day)
        return s.role if s else None


def _weighted(rng: random.Random, pairs) -> str:
    x = rng.random()
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, int(round(rng.gauss(mean, math.sqrt(mean)))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _money(x: float) -> str:
    return f"{x:.2f}"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class Org:
    """The roster: hierarchy, hires, leavers, moves and promotions."""

    def __init__(self, rng: random.Random, payees: int, start: dt.date, end: dt.date) -> None:
        self.rng, self.start, self.end = rng, start, end
        self.payees: dict[str, Payee] = {}
        self._names = self._name_stream()
        total = max(payees, 8)
        managers = max(2, round((total - 1) / 10))
        reserve = max(1, round(total * 0.08))  # ids kept for replacement hires
        ics = total - 1 - managers - reserve
        territories = list(TERRITORIES)
        weights = [TERRITORIES[t][1] for t in territories]
        self.vp = self._new("VP", "leadership", None, "east", self._tenure_start())
        team_terr = []
        for i in range(managers):
            terr = territories[i % len(territories)] if i < len(territories) else \
                rng.choices(territories, weights)[0]
            team_terr.append(terr)
        self.teams: list[tuple[str, str, str]] = []  # (team, manager, territory)
        counters: dict[str, int] = {}
        for terr in team_terr:
            counters[terr] = counters.get(terr, 0) + 1
            team = f"{terr}-{counters[terr]}"
            mgr = self._new("MGR", team, self.vp.id, terr, self._tenure_start())
            self.teams.append((team, mgr.id, terr))
        # ICs: AE 55%, SE 15%, SDR 30%, dealt round-robin over teams.
        roles = ["AE"] * 11 + ["SDR"] * 6 + ["SE"] * 3
        for i in range(ics):
            team, mgr, terr = self.teams[i % len(self.teams)]
            self._new(roles[i % len(roles)], team, mgr, terr, self._tenure_start())
        self._changes(reserve)

    def _name_stream(self):
        names = [f"{f}.{last}" for last in LAST for f in FIRST]
        self.rng.shuffle(names)
        yield from names
        n = 0
        while True:
            n += 1
            yield f"{FIRST[n % len(FIRST)]}.{LAST[n % len(LAST)]}{n}"

    def _tenure_start(self) -> dt.date:
        return self.start - dt.timedelta(days=self.rng.randint(30, 1500))

    def _new(self, role, team, manager, territory, start, end=None) -> Payee:
        p = Payee(next(self._names), start, end, [Stint(role, team, manager, territory, start)])
        self.payees[p.id] = p
        return p

    def _changes(self, reserve: int) -> None:
        rng, span = self.rng, (self.end - self.start).days
        ics = [p for p in self.payees.values() if p.stints[0].role in ("AE", "SE", "SDR")]
        leavers = rng.sample(ics, k=max(1, round(len(ics) * 0.10)))
        for p in leavers:
            p.end = self.start + dt.timedelta(days=rng.randint(60, max(61, span - 30)))
            if reserve > 0:
                reserve -= 1
                s = p.stints[0]
                hire = p.end + dt.timedelta(days=rng.randint(14, 60))
                if hire < self.end:
                    self._new(s.role, s.team, s.manager, s.territory, hire)
        stayers = [p for p in ics if p.end is None]
        aes = [p for p in stayers if p.stints[0].role == "AE"]
        for p in rng.sample(aes, k=max(1, round(len(aes) * 0.06))):
            s = p.stints[0]
            others = [t for t in self.teams if t[0] != s.team]
            if not others:
                continue
            team, mgr, terr = rng.choice(others)
            since = self.start + dt.timedelta(days=rng.randint(90, max(91, span - 90)))
            p.stints.append(Stint("AE", team, mgr, terr, since))
        sdrs = [p for p in stayers if p.stints[0].role == "SDR" and len(p.stints) == 1]
        for p in rng.sample(sdrs, k=max(1, round(len(sdrs) * 0.08))):
            s = p.stints[0]
            since = self.start + dt.timedelta(days=rng.randint(60, max(61, span - 120)))
            p.stints.append(Stint("AE", s.team, s.manager, s.territory, since))
        while reserve > 0:  # growth hires for what is left of the reserve
            reserve -= 1
            team, mgr, terr = rng.choice(self.teams)
            role = rng.choice(("AE", "AE", "SDR", "SE"))
            self._new(role, team, mgr, terr,
                      self.start + dt.timedelta(days=rng.randint(0, max(1, span - 60))))

    def rows(self):
        for p in sorted(self.payees.values(), key=lambda p: p.id):
            for s in p.stints:
                yield [p.id, s.role, p.start.isoformat(), p.end.isoformat() if p.end else "",
                       s.manager or "", s.team, s.territory, s.since.isoformat()]

    def holding(self, role: str, day: dt.date) -> list[tuple[Payee, Stint]]:
        out = []
        for p in self.payees.values():
            s = p.stint_on(day)
            if s is not None and s.role == role:
                out.append((p, s))
        return out


class Generator:
    def __init__(self, args) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.start = dt.date.fromisoformat(args.start)
        self.end = _add_years(self.start, args.years) - dt.timedelta(days=1)
        self.org = Org(self.rng, args.payees, self.start, self.end)
        self.days = (self.end - self.start).days + 1
        self.heap: list[tuple[int, int, str]] = []
        self.seq = 0
        self.deal_no = 0
        self.written = 0
        self.counts: dict[str, int] = {}
        self.fields = [f for f in args.fields.split(",") if f]
        unknown = set(self.fields) - set(EVENT_HEADER[12:])
        if unknown:
            raise SystemExit(f"--fields: unknown field(s) {', '.join(sorted(unknown))}; "
                             f"choose from {', '.join(EVENT_HEADER[12:])}")
        self.field_index = [EVENT_HEADER.index(f) - 12 for f in self.fields]
        self.plain = None  # a csv writer for --plain-events
        self.fx = self._fx_table()
        self._pool_cache: dict[tuple[str, int], list] = {}
        share = max(0.0, min(0.9, args.activity_share))
        self.activity_budget = args.events * share
        self.deals_per_day = args.events * (1 - share) / EVENTS_PER_DEAL / self.days

    # ------------------------------------------------------------------ FX

    def _fx_table(self) -> dict[str, list[tuple[dt.date, float]]]:
        rng = random.Random(self.args.seed * 7919 + 1)
        out: dict[str, list[tuple[dt.date, float]]] = {}
        for cur, rate in FX_START.items():
            y, m, rows = self.start.year, self.start.month, []
            while dt.date(y, m, 1) <= self.end:
                rows.append((dt.date(y, m, 1), round(rate, 4)))
                rate *= math.exp(rng.gauss(0, 0.015))
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            out[cur] = rows
        return out

    def usd(self, amount: float, currency: str) -> float:
        if currency == "USD":
            return amount
        return amount * self.fx[currency][0][1]

    def fx_rows(self):
        for cur, rows in self.fx.items():
            for day, rate in rows:
                yield [cur, "USD", day.isoformat(), f"{rate:.4f}"]
        eur = dict(self.fx["EUR"])
        for day, rate in eur.items():
            yield ["USD", "EUR", day.isoformat(), f"{1 / rate:.6f}"]
        for day, gbp in self.fx["GBP"]:
            yield ["GBP", "EUR", day.isoformat(), f"{gbp / eur[day]:.6f}"]

    # ------------------------------------------------------------------ rows

    def push(self, day: dt.date, row: list[str]) -> None:
        """Queue a row (without its event id) if it falls inside the data range."""
        if day < self.start or day > self.end:
            return
        self.seq += 1
        heapq.heappush(self.heap, (day.toordinal(), self.seq, "\x1f".join(row)))

    def flush(self, upto: dt.date, writer) -> None:
        limit = upto.toordinal()
        while self.heap and self.heap[0][0] <= limit:
            _, _, text = heapq.heappop(self.heap)
            self.written += 1
            row = text.split("\x1f")
            self.counts[row[2]] = self.counts.get(row[2], 0) + 1
            writer.writerow([f"E{self.written:08d}", *row[:11],
                             *(row[11 + i] for i in self.field_index)])
            if self.plain is not None:
                self.plain.writerow([f"E{self.written:08d}", *row[:11]])

    @staticmethod
    def row(deal: str, day: dt.date, kind: str, amount: str = "", currency: str = "",
            owner: str = "", splits: str = "", stage: str = "", activity: str = "",
            channel: str = "", term: str = "", fields: tuple = ("", "", "")) -> list[str]:
        return [deal, day.isoformat(), kind, amount, currency, owner, splits, stage, activity,
                channel, term, *fields]

    # ------------------------------------------------------------------ people

    def pool(self, role: str, day: dt.date) -> list[tuple[Payee, Stint]]:
        """Payees holding `role` on `day` (cached per week)."""
        key = (role, day.toordinal() // 7)
        if key not in self._pool_cache:
            if len(self._pool_cache) > 64:
                self._pool_cache.clear()
            self._pool_cache[key] = self.org.holding(role, day)
        return self._pool_cache[key]

    def pick(self, role: str, day: dt.date, until: dt.date, territory: str | None = None,
             exclude: str | None = None, region_currency: str | None = None):
        """A payee holding `role` from `day` to `until`, preferring `territory`."""
        cands = self.pool(role, day)
        if not cands:
            return None
        rng = self.rng
        for attempt in range(12):
            p, s = rng.choice(cands)
            if p.id == exclude or p.role_on(day) != role or p.role_on(until) != role:
                continue
            if territory and attempt < 8 and s.territory != territory:
                continue
            if region_currency and TERRITORIES[s.territory][0] == region_currency and \
                    attempt < 10:
                continue
            return p, s
        return None

    # ------------------------------------------------------------------ deals

    def deal(self, d0: dt.date) -> None:
        rng = self.rng
        seg = _weighted(rng, [(k, v[0]) for k, v in SEGMENTS.items()])
        _, median, sigma, win, (clo, chi), terms = SEGMENTS[seg]
        cycle = rng.randint(clo, chi)
        won = rng.random() < win
        t_book = d0 + dt.timedelta(days=cycle)
        picked = self.pick("AE", d0, t_book)
        if picked is None:
            return
        owner, stint = picked
        self.deal_no += 1
        deal = f"D{self.deal_no:07d}"
        currency = TERRITORIES[stint.territory][0]
        amount = rng.lognormvariate(math.log(median), sigma)
        amount = round(amount, 2) if rng.random() < 0.2 else float(round(amount, -1))
        amount = max(amount, 500.0)
        dtype = _weighted(rng, TYPES)
        product = _weighted(rng, PRODUCTS)
        fields = (dtype, product, seg)
        stages = STAGES_LONG if seg != "smb" else STAGES_SHORT

        # Touches first: the earliest event of the deal is d0.
        n_touch = _weighted(rng, [(0, .15), (1, .25), (2, .25), (3, .20), (4, .10), (5, .05)])
        sdr = None
        if rng.random() < 0.45:
            got = self.pick("SDR", d0, d0, territory=stint.territory)
            sdr = got[0] if got else None
        touch_days = sorted(d0 + dt.timedelta(days=rng.randint(0, max(0, int(cycle * 0.8))))
                            for _ in range(n_touch))
        if touch_days:
            touch_days[0] = d0
        for i, day in enumerate(touch_days):
            if i == 0 and sdr is not None:
                self.push(day, self.row(deal, day, "touch", owner=sdr.id, channel="rep"))
            elif rng.random() < 0.25:
                self.push(day, self.row(deal, day, "touch", owner=owner.id, channel="rep"))
            else:
                self.push(day, self.row(deal, day, "touch", channel=rng.choice(DIGITAL)))

        # Stages: spread over the cycle; lost deals stop at some stage.
        reached = len(stages) if won else rng.randint(1, len(stages))
        pipeline = _money(amount)
        last = d0
        stage_days = []
        for i in range(reached):
            day = d0 + dt.timedelta(days=int(cycle * i / (len(stages) + 0.5)))
            if i == 0 and touch_days:
                day = max(day, touch_days[0] + dt.timedelta(days=rng.randint(0, 5)))
            day = max(day, last)
            stage_days.append(day)
            last = day
            self.push(day, self.row(deal, day, "stage", pipeline, currency, owner.id,
                                    stage=stages[i], fields=fields))
            if stages[i] == "demo" and sdr is not None and sdr.role_on(day) == "SDR":
                self.push(day, self.row(deal, day, "activity", owner=sdr.id,
                                        activity="qualified_demo"))
        if won and reached >= 3 and rng.random() < 0.03:  # slipped back, reached again
            day = last + dt.timedelta(days=rng.randint(1, 10))
            self.push(day, self.row(deal, day, "stage", pipeline, currency, owner.id,
                                    stage=stages[1], fields=fields))
            day += dt.timedelta(days=rng.randint(1, 10))
            self.push(day, self.row(deal, day, "stage", pipeline, currency, owner.id,
                                    stage=stages[2], fields=fields))
            last = day
        if not won:
            return

        # Booking, with splits on some deals.
        t_book = max(t_book, last)
        if owner.role_on(t_book) != "AE":
            return
        splits = ""
        r = rng.random()
        if seg != "smb" and r < 0.15:
            se = self.pick("SE", t_book, t_book, territory=stint.territory)
            if se is not None:
                own = rng.choice((80, 75))
                splits = f"{owner.id}:{own};{se[0].id}:{100 - own}"
        elif r > 0.95:
            other = self.pick("AE", t_book, t_book, exclude=owner.id, region_currency=currency)
            if other is not None:
                own = rng.choice((50, 60))
                splits = f"{owner.id}:{own};{other[0].id}:{100 - own}"
        term = rng.choice(terms)
        if t_book < self.start:
            return  # booked before the data starts: its later events would be orphans
        self.push(t_book, self.row(deal, t_book, "booked", _money(amount), currency, owner.id,
                                   splits, term=str(term), fields=fields))

        # Amendments, cancellation, invoices, collections.
        current = amount
        amendments = []
        if rng.random() < 0.06:
            day = t_book + dt.timedelta(days=rng.randint(10, 150))
            amendments.append(day)
            if rng.random() < 0.15:
                amendments.append(day + dt.timedelta(days=rng.randint(10, 60)))
        cancel = None
        if rng.random() < 0.05:
            x = rng.random()
            days = (90 if x < 0.05 else 91 if x < 0.10 else rng.randint(5, 89) if x < 0.60
                    else rng.randint(92, 365))
            cancel = t_book + dt.timedelta(days=days)
        amounts_at: list[tuple[dt.date, float]] = [(t_book, amount)]
        for day in amendments:
            if cancel is not None and day >= cancel:
                break
            current = max(500.0, float(round(current * rng.uniform(0.6, 1.5), -1)))
            amounts_at.append((day, current))
            self.push(day, self.row(deal, day, "amended", _money(current), currency, owner.id))
        years = math.ceil(term / 12)
        for i in range(years):
            inv = _add_years(t_book, i) + dt.timedelta(days=rng.randint(0, 10))
            if cancel is not None and inv >= cancel:
                break
            total = [a for d, a in amounts_at if d <= inv][-1]
            part = round(total * min(12, term - 12 * i) / term, 2)
            self.push(inv, self.row(deal, inv, "invoiced", _money(part), currency))
            x = rng.random()
            pays = []
            if x < 0.85:
                pays = [(rng.randint(15, 75), part)]
            elif x < 0.95:
                first = round(part * rng.choice((0.5, 0.6)), 2)
                pays = [(rng.randint(15, 45), first), (rng.randint(46, 90),
                                                        round(part - first, 2))]
            for lag, paid in pays:
                day = inv + dt.timedelta(days=lag)
                if cancel is not None and day >= cancel:
                    break
                self.push(day, self.row(deal, day, "collected", _money(paid), currency))
        if cancel is not None:
            self.push(cancel, self.row(deal, cancel, "cancelled", owner=owner.id))

    # ------------------------------------------------------------------ activities

    def activities(self, day: dt.date, weekday_share: float) -> None:
        """Meetings (SDRs and AEs) and qualified demos (SDRs) on a working day."""
        sdrs = [x for x in self.pool("SDR", day) if x[0].role_on(day) == "SDR"]
        aes = [x for x in self.pool("AE", day) if x[0].role_on(day) == "AE"]
        weight = 4 * len(sdrs) + len(aes)
        if not weight:
            return
        per_weight = weekday_share / weight
        rng = self.rng
        for p, _ in sdrs:
            for _ in range(_poisson(rng, 4 * per_weight * 0.85)):
                self.push(day, self.row("", day, "activity", owner=p.id, activity="meeting"))
            for _ in range(_poisson(rng, 4 * per_weight * 0.15)):
                self.push(day, self.row("", day, "activity", owner=p.id,
                                        activity="qualified_demo"))
        for p, _ in aes:
            for _ in range(_poisson(rng, per_weight)):
                self.push(day, self.row("", day, "activity", owner=p.id, activity="meeting"))

    # ------------------------------------------------------------------ quotas

    def quota_rows(self):
        """A bookings quota per AE and SE per quarter they hold the role, in USD."""
        rng = random.Random(self.args.seed * 104729 + 3)
        mean_usd = {}
        for seg, (share, median, sigma, win, _, _) in SEGMENTS.items():
            mean_usd[seg] = share * win * median * math.exp(sigma ** 2 / 2) * 1.07
        per_day_nb = self.deals_per_day * 0.55  # new-business deals a day (all reps)
        q_days = 91.3
        mid = self.start + dt.timedelta(days=self.days // 2)
        n_ae = max(1, len(self.org.holding("AE", mid)))
        n_se = max(1, len(self.org.holding("SE", mid)))
        ae_q = per_day_nb * q_days * sum(mean_usd.values()) / n_ae
        se_q = per_day_nb * q_days * 0.15 * (mean_usd["mid_market"] + mean_usd["enterprise"]) \
            / n_se
        y, q = self.start.year, (self.start.month - 1) // 3
        while True:
            qs = dt.date(y, 3 * q + 1, 1)
            if qs > self.end:
                break
            qe = (dt.date(y + 1, 1, 1) if q == 3 else dt.date(y, 3 * q + 4, 1)) - \
                dt.timedelta(days=1)
            label = f"{y}-Q{q + 1}"
            for p in sorted(self.org.payees.values(), key=lambda p: p.id):
                days_in = {"AE": 0, "SE": 0}
                d = qs
                while d <= qe:
                    role = p.role_on(d)
                    if role in days_in:
                        days_in[role] += 1
                    d += dt.timedelta(days=7)
                role = max(days_in, key=days_in.get)
                if not days_in[role]:
                    continue
                base = ae_q if role == "AE" else se_q
                frac = min(1.0, days_in[role] / 13)
                amount = base * frac * rng.uniform(0.8, 1.15) * (1 / 0.9)
                step = 5000 if amount > 50_000 else 1000
                amount = max(step, round(amount / step) * step)
                yield [p.id, "bookings", label, f"{amount:.0f}", "USD"]
            q += 1
            if q == 4:
                y, q = y + 1, 0

    # ------------------------------------------------------------------ run

    def _header(self) -> list[str]:
        return EVENT_HEADER[:12] + list(self.fields)

    def run(self, out: str) -> dict:
        os.makedirs(out, exist_ok=True)
        t0 = time.time()
        with open(os.path.join(out, "roster.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(ROSTER_HEADER)
            w.writerows(self.org.rows())
        with open(os.path.join(out, "territories.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["territory", "index"])
            w.writerows([t, i] for t, i in TERRITORY_INDEX.items())
        with open(os.path.join(out, "fx.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["currency", "target", "date", "rate"])
            w.writerows(self.fx_rows())
        quotas = 0
        with open(os.path.join(out, "quotas.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["payee_id", "quota", "period", "amount", "currency"])
            for r in self.quota_rows():
                w.writerow(r)
                quotas += 1
        working_days = sum(1 for i in range(self.days)
                           if (self.start + dt.timedelta(days=i)).weekday() < 5)
        per_workday = self.activity_budget / max(1, working_days)
        lead = 250  # deals created before the range supply its first bookings and invoices
        plain_file = None
        if self.args.plain_events:
            plain_file = open(os.path.join(out, self.args.plain_events), "w", newline="")
            self.plain = csv.writer(plain_file, lineterminator="\n")
            self.plain.writerow(EVENT_HEADER[:12])
        with open(os.path.join(out, "events.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(self._header())
            day = self.start - dt.timedelta(days=lead)
            while day <= self.end:
                weekday = day.weekday() < 5
                rate = self.deals_per_day * (7 / 5.4 if weekday else 0.2 * 7 / 5.4)
                for _ in range(_poisson(self.rng, rate)):
                    self.deal(day)
                if weekday and day >= self.start:
                    self.activities(day, per_workday)
                self.flush(day, w)
                day += dt.timedelta(days=1)
            self.flush(self.end, w)
        if plain_file is not None:
            plain_file.close()
        manifest = {
            "generator": "bench/gen_data.py",
            "arguments": {"events": self.args.events, "payees": self.args.payees,
                          "start": self.args.start, "years": self.args.years,
                          "seed": self.args.seed, "activity_share": self.args.activity_share,
                          "fields": self.args.fields,
                          "plain_events": self.args.plain_events},
            "range": [self.start.isoformat(), self.end.isoformat()],
            "events": self.written, "events_by_kind": dict(sorted(self.counts.items())),
            "deals": self.deal_no,
            "payees": len(self.org.payees),
            "roster_rows": sum(len(p.stints) for p in self.org.payees.values()),
            "quota_rows": quotas,
            "python": sys.version.split()[0],
            "seconds": round(time.time() - t0, 1),
        }
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output directory (created if missing)")
    ap.add_argument("--events", type=int, default=100_000, help="target number of events")
    ap.add_argument("--payees", type=int, default=300, help="number of payees (ids)")
    ap.add_argument("--start", default="2026-01-01", help="first day of the data")
    ap.add_argument("--years", type=int, default=2, help="number of years of data")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--activity-share", type=float, default=0.25,
                    help="share of events that are activities not tied to a deal")
    ap.add_argument("--fields", default="type,product,segment",
                    help="custom deal-field columns to write (a plan must declare each one it "
                    "loads: see docs/data.md)")
    ap.add_argument("--plain-events", metavar="NAME",
                    help="also write the same events without the custom columns to NAME "
                    "(for plans that declare none of the fields)")
    args = ap.parse_args(argv)
    manifest = Generator(args).run(args.out)
    print(json.dumps({k: manifest[k] for k in ("events", "deals", "payees", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
