"""A plan's worked example -> the input records it describes (roster, events, quotas, FX).

The checker has validated the example (payees described, amounts with currencies, deals booked
before they change), so this is a plain translation. Event ids are made from the deal id,
the event kind and its position in the example, so traces can cite them.
"""

from __future__ import annotations

from decimal import Decimal

from incentive_dsl.check.model import ExampleSpec, Plan
from incentive_dsl.data.records import (
    Dataset, Event, FxRate, PayeeRecord, QuotaRecord, Source, TerritoryIndex)
from incentive_dsl.syntax import nodes as n


def _value(v: n.Expr | n.Ident):
    if isinstance(v, n.Ident):
        return v.text
    if isinstance(v, n.Text):
        return v.value
    if isinstance(v, n.Money):
        return v.amount.value
    if isinstance(v, (n.Number, n.Percent)):
        return v.value
    if isinstance(v, n.DateLit):
        return v.value
    if isinstance(v, n.Bool):
        return v.value
    if isinstance(v, n.Duration):
        return v.count.value
    return None


def example_dataset(plan: Plan, example: ExampleSpec) -> Dataset:
    block = example.block
    path = plan.path
    payees, events, quotas, fx, territories = [], [], [], [], []
    counts: dict[str, int] = {}
    hired: dict[str, object] = {}  # payee -> the start of their first line
    for item in block.items:
        src = Source(path, item.span.line)
        if isinstance(item, n.ExamplePayee):
            a = {x.key: x.value for x in item.attrs}
            since = a["from"].value if "from" in a else plan.effective_start
            # A later line for the same payee is a change from its `from` date (as a second
            # roster row with an effective date is); employment starts with the first.
            change = item.payee.text in hired
            start = hired.setdefault(item.payee.text, since)
            payees.append(PayeeRecord(
                id=item.payee.text, role=a["role"].text, start=start,
                effective_from=since if change else None,
                end=a["to"].value if "to" in a else None,
                manager=a["manager"].text if "manager" in a else None,
                team=a["team"].value if "team" in a else None,
                territory=a["territory"].value if "territory" in a else None, source=src))
        elif isinstance(item, n.ExampleEvent):
            deal = item.deal.text if isinstance(item.deal, n.Ident) else item.deal.value
            kind = item.kind
            counts[f"{deal}-{kind}"] = counts.get(f"{deal}-{kind}", 0) + 1
            number = counts[f"{deal}-{kind}"]
            amount = currency = owner = term = None
            splits: tuple = ()
            fields = []
            for x in item.attrs:
                if x.key == "by":
                    owner = x.value.text
                elif x.key == "amount":
                    amount, currency = x.value.amount.value, x.value.currency
                elif x.key == "split":
                    splits = tuple((s.name.text, s.share.value) for s in x.value)
                elif x.key == "term":
                    term = int(x.value.count.value) * (12 if x.value.unit.startswith("year")
                                                       else 1)
                else:
                    fields.append((x.key, _value(x.value)))
            events.append(Event(
                id=f"{deal}-{kind}" + (f"-{number}" if number > 1 else ""), deal=deal,
                date=item.date.value, kind="touch" if kind == "touch" else kind, amount=amount,
                currency=currency, owner=owner, splits=splits, term_months=term,
                subject=item.subject.value if item.subject is not None else None,
                fields=tuple(fields), source=src))
        elif isinstance(item, n.ExampleActivity):
            counts["activity"] = counts.get("activity", 0) + 1
            events.append(Event(
                id=f"A{counts['activity']}", deal="", date=item.date.value, kind="activity",
                owner=item.by.text, subject=item.activity.value,
                fields=tuple((x.key, _value(x.value)) for x in item.attrs), source=src))
        elif isinstance(item, n.ExampleQuota):
            amount = item.amount.amount.value if isinstance(item.amount, n.Money) \
                else item.amount.value
            quotas.append(QuotaRecord(payee=item.payee.text, quota=item.quota.text,
                                      period=item.period.raw, amount=amount, source=src))
        elif isinstance(item, n.ExampleFx):
            rate = item.target.amount.value / item.source.amount.value
            fx.append(FxRate(currency=item.source.currency, target=item.target.currency,
                             date=item.date.value, rate=Decimal(rate), source=src))
        elif isinstance(item, n.ExampleTerritory):
            territories.append(TerritoryIndex(territory=item.territory.value,
                                              index=item.index.value, source=src))
    events.sort(key=Event.sort_key)
    return Dataset(events=tuple(events), payees=tuple(payees), quotas=tuple(quotas),
                   fx=tuple(fx), territories=tuple(territories), sources=(path,))
