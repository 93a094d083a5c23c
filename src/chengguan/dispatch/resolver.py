"""Who owns a problem: the responsibility list applied to a category at a place.

部件先属主后属地, 事件先属地后属主: rules of the preferred basis come first; then the most specific
place (cell > community > street > district > city), then the most specific category (小类 > 大类),
then the higher priority. Two different units tied at the top, or no rule at all, go to the
district's command centre for 会商 (consultation).

The place comes in as the chain of area organisations from the community up to the city (the
geo domain turns a point into it), so this module needs no map to be tested or used. The rules,
categories and organisations are read once per process into a :class:`RuleBook` and re-read
when any of them changes (``chengguan.revisions``): intake resolves thousands of reports a
second against it.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from chengguan import revisions
from chengguan.dispatch.models import BASIS_LABELS, Basis, ResponsibilityRule
from chengguan.errors import NotFound
from chengguan.orgs.models import Organisation, OrgKind
from chengguan.taxonomy.models import KIND_LABELS, Category, CategoryKind, TimeLimit

PREFERRED_BASIS = {CategoryKind.COMPONENT: Basis.OWNER, CategoryKind.EVENT: Basis.TERRITORY}
REVISIONS = ("orgs", "taxonomy", "responsibility")
MEMO_LIMIT = 100_000  # resolutions kept per book (a few hundred bytes each)
Rank = tuple[int, int, int, int]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def memoised(memo: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """``memo[key]``, made on a miss; the memo starts over past ``MEMO_LIMIT`` entries (a long
    import meets more (category, place) pairs than it should keep)."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= MEMO_LIMIT:
            memo.clear()
        found = memo[key] = make()
    return found


@dataclass(frozen=True)
class Unit:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Resolution:
    category_key: str
    unit: Unit | None  # the owner, or the centre for 会商 (None: no centre configured either)
    rule_id: int | None
    row_no: int | None
    basis: Basis | None
    reason: str
    candidates: list[Unit]
    needs_consultation: bool


@dataclass(frozen=True)
class _Category:
    id: int
    key: str
    name: str
    kind: CategoryKind
    parent_id: int | None


@dataclass(frozen=True)
class _Rule:
    id: int
    row_no: int
    category_id: int
    org_id: int
    cell_code: str | None
    basis: Basis
    unit_id: int
    priority: int


@dataclass(frozen=True)
class _Org:
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    function: str | None

    @property
    def unit(self) -> Unit:
        return Unit(self.id, self.code, self.name)


@dataclass
class RuleBook:
    categories: dict[str, _Category]
    rules: dict[tuple[int, int | str], list[_Rule]]  # by (category id, area org id or cell code)
    orgs: dict[int, _Org]
    limits: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)  # (小类 id, class) → amount, unit
    centres: dict[int, Unit] = field(default_factory=dict)  # area id → its command centre
    # Answers already given: a bulk import resolves the same category in the same cell thousands
    # of times. The book is rebuilt whenever orgs, taxonomy or the list change, and so is this.
    _memo: dict[tuple[str, tuple[int, ...], str | None, str | None], Resolution] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def load(cls, session: Session) -> RuleBook:
        """Everything the resolution needs, whatever the session's scope: a street's case follows
        the city's and the district's rules, and owners often sit outside the caller's subtree."""
        unscoped = {"skip_scope": True}
        orgs = {
            o.id: _Org(o.id, o.code, o.name, o.kind, o.parent_id, o.function)
            for o in session.scalars(
                select(Organisation).where(Organisation.active.is_(True)), execution_options=unscoped
            )
        }
        categories = {
            c.key: _Category(c.id, c.key, c.name, CategoryKind(c.kind), c.parent_id)
            for c in session.scalars(select(Category), execution_options=unscoped)
        }
        rules: dict[tuple[int, int | str], list[_Rule]] = defaultdict(list)
        active = select(ResponsibilityRule).where(ResponsibilityRule.active.is_(True))
        for r in session.scalars(active, execution_options=unscoped):
            if r.unit_id in orgs:  # a deactivated unit owns nothing
                rules[(r.category_id, r.cell_code or r.org_id)].append(
                    _Rule(r.id, r.row_no, r.category_id, r.org_id, r.cell_code, Basis(r.basis), r.unit_id, r.priority)
                )
        limits = {
            (t.category_id, t.area_class): (t.amount, t.unit)
            for t in session.scalars(select(TimeLimit), execution_options=unscoped)
        }
        book = cls(categories, dict(rules), orgs, limits)
        book.centres = book._centres()
        return book

    def time_limit(self, category_key: str, area_class: str) -> tuple[int, str] | None:
        """处置时限 (amount, unit) of a 小类 in an area class; None for a 大类 or an unknown class."""
        return self.limits.get((self.category(category_key).id, area_class))

    def _centres(self) -> dict[int, Unit]:
        """Each area's centre: 指挥中心 (function ``command``) before 监督中心, then the lowest id."""
        best: dict[int, _Org] = {}
        for org in sorted(self.orgs.values(), key=lambda o: (o.function != "command", o.id)):
            if org.kind == OrgKind.CENTRE and org.parent_id is not None:
                best.setdefault(org.parent_id, org)
        return {area: org.unit for area, org in best.items()}

    def category(self, key: str) -> _Category:
        found = self.categories.get(key.upper())
        if found is None:
            raise NotFound(f"category {key!r} not found / 无此分类", field="key")
        return found

    def resolve(
        self, category_key: str, area_chain: Sequence[int], cell_code: str | None = None, area_class: str | None = None
    ) -> Resolution:
        key = (category_key, tuple(area_chain), cell_code, area_class)
        return memoised(self._memo, key, lambda: self._resolve(category_key, area_chain, cell_code, area_class))

    def _resolve(
        self, category_key: str, area_chain: Sequence[int], cell_code: str | None, area_class: str | None
    ) -> Resolution:
        category = self.category(category_key)
        ranked = sorted(
            (
                (self._rank(r, category, area_chain), r.row_no, r)
                for r in self._matching(category, area_chain, cell_code)
            ),
            key=lambda item: item[:2],
        )
        top = [rule for rank, _row, rule in ranked if rank == ranked[0][0]] if ranked else []
        where = self._place(area_chain, cell_code, area_class)
        units = [self.orgs[i].unit for i in dict.fromkeys(r.unit_id for r in top)]
        if len(units) == 1:
            best = top[0]
            return Resolution(
                category_key=category.key,
                unit=units[0],
                rule_id=best.id,
                row_no=best.row_no,
                basis=best.basis,
                reason=f"{where}; 清单第{best.row_no}行; {_basis_reason(category.kind, best.basis)}",
                candidates=units,
                needs_consultation=False,
            )
        centre = self.consultation_centre(area_chain)
        if units:
            rows = "、".join(str(r.row_no) for r in top)
            why = f"清单第{rows}行并列({' / '.join(u.name for u in units)})"
        else:
            why = f"清单无适用于{category.key} {category.name}的规则"
        to = f"提交{centre.name}会商" if centre else "未设指挥中心, 请人工派遣"
        return Resolution(
            category_key=category.key,
            unit=centre,
            rule_id=None,
            row_no=None,
            basis=None,
            reason=f"{where}; {why}; {to}",
            candidates=units,
            needs_consultation=True,
        )

    def consultation_centre(self, area_chain: Sequence[int]) -> Unit | None:
        """The district's command centre (a city centre when the district has none)."""
        areas = [self.orgs[i] for i in area_chain if i in self.orgs]
        for kind in (OrgKind.DISTRICT, OrgKind.CITY):
            for area in (a for a in areas if a.kind == kind):
                if area.id in self.centres:
                    return self.centres[area.id]
        return None

    def _matching(self, category: _Category, area_chain: Sequence[int], cell_code: str | None) -> list[_Rule]:
        ids = [category.id] if category.parent_id is None else [category.id, category.parent_id]
        places: list[int | str] = [*area_chain, cell_code] if cell_code else list(area_chain)
        return [r for cid in ids for place in places for r in self.rules.get((cid, place), ())]

    @staticmethod
    def _rank(rule: _Rule, category: _Category, area_chain: Sequence[int]) -> Rank:
        basis = 0 if rule.basis == PREFERRED_BASIS[category.kind] else 1
        place = 0 if rule.cell_code else 1 + list(area_chain).index(rule.org_id)
        return basis, place, 0 if rule.category_id == category.id else 1, -rule.priority

    def _place(self, area_chain: Sequence[int], cell_code: str | None, area_class: str | None) -> str:
        if cell_code:
            return f"网格 {cell_code}" + (f" {area_class}类" if area_class else "")
        first = self.orgs.get(area_chain[0]) if area_chain else None
        return first.name if first else "未知区域"


# What :meth:`RuleBook._resolve` writes for one owner: "…; 清单第37行; 事件先属地[后属主(无属地规则)]; …"
_CITATION = re.compile(r"清单第(\d+)行; \S+?先(属主|属地)(?:后(属主|属地))?")
_BASIS_BY_LABEL = {label: basis for basis, label in BASIS_LABELS.items()}


def cited_rule(reason: str) -> tuple[int, Basis] | None:
    """The list row and the basis a reason of :meth:`RuleBook.resolve` names for its owner; None
    for a 会商 or a hand-written reason. The bulk intake path keeps an event's first automatic
    dispatch on the event row (the reason, no rule columns) and the dispatch history reads them
    back from it."""
    found = _CITATION.search(reason)
    if found is None:
        return None
    row, preferred, fallback = found.groups()
    return int(row), _BASIS_BY_LABEL[fallback or preferred]


def _basis_reason(kind: CategoryKind, basis: Basis) -> str:
    preferred = PREFERRED_BASIS[kind]
    other = Basis.TERRITORY if preferred is Basis.OWNER else Basis.OWNER
    label = KIND_LABELS[kind]
    if basis is preferred:
        return f"{label}先{BASIS_LABELS[preferred]}"
    return f"{label}先{BASIS_LABELS[preferred]}后{BASIS_LABELS[other]}(无{BASIS_LABELS[preferred]}规则)"


_cache: dict[tuple[str, tuple[str, ...]], RuleBook] = {}
_lock = threading.Lock()


def rulebook(session: Session) -> RuleBook:
    """The rule book of this database, rebuilt when organisations, categories or rules changed."""
    key = (str(session.get_bind().engine.url), revisions.tokens(session, *REVISIONS))
    book = _cache.get(key)
    if book is None:
        with _lock:
            book = _cache.get(key) or RuleBook.load(session)
            _cache.clear()
            _cache[key] = book
    return book


def resolve_owner(
    session: Session,
    category_key: str,
    area_chain: Sequence[int],
    cell_code: str | None = None,
    *,
    area_class: str | None = None,
) -> Resolution:
    """The unit that owns a ``category_key`` problem at a place: ``area_chain`` lists the area
    organisation ids from the most specific (community) up to the city; ``cell_code`` is the
    unit grid cell, if known, and ``area_class`` its class (only for the reason text)."""
    return rulebook(session).resolve(category_key, area_chain, cell_code, area_class)
