"""ServiceNow encoded queries (sysparm_query) as SQL over a Table API table definition.

Terms joined by ^ (AND), ^OR (OR, binding tighter than AND) and ^NQ (a new query OR'd with the
others), plus ORDERBY<field> / ORDERBYDESC<field>. A term is FIELD OPERATOR VALUE with the operators
of OPERATORS; date-time fields also take ON / NOTON with ServiceNow's ranges
(ON<label>@<start>@<end>, e.g. ONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday())
and, like any comparison, the date scripts of DATE_FUNCTIONS, evaluated in UTC (the stored time zone;
ServiceNow evaluates them in the caller's time zone) with weeks starting on Monday.

Refused with a reason (QueryError, answered 400 by the Table API, where ServiceNow silently ignores
what it does not understand): an unknown field, a value its field can never hold, a script other
than the current user's sys_id and the date scripts, dot-walking (caller_id.name=...), and the
ServiceNow operators this reference SSI does not implement, which are named as such.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Call, Field, TableDef

MAX_INT = 2**31 - 1  # integers in queries and paging (SQLite's own limit is 2**63)

# Longest first, so 'NOT LIKE' wins over 'LIKE', '!=' over '=' and so on.
OPERATORS = (
    "EMPTYSTRING",
    "ISNOTEMPTY",
    "STARTSWITH",
    "ISEMPTY",
    "ANYTHING",
    "ENDSWITH",
    "NOT LIKE",
    "NOT IN",
    "NOTON",
    "LIKE",
    "IN",
    "ON",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)
# Operators of ServiceNow's filters that this reference SSI does not implement: named when used.
UNSUPPORTED = (
    "GT_OR_EQUALS_FIELD",
    "LT_OR_EQUALS_FIELD",
    "CHANGESFROM",
    "INSTANCEOF",
    "RELATIVEGE",
    "RELATIVEGT",
    "RELATIVELE",
    "RELATIVELT",
    "RELATIVEEE",
    "VALCHANGES",
    "CHANGESTO",
    "DATEPART",
    "GT_FIELD",
    "LESSTHAN",
    "LT_FIELD",
    "MORETHAN",
    "BETWEEN",
    "DYNAMIC",
    "NSAMEAS",
    "SAMEAS",
)
GLIDE_TIME_RX = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
FIELD_NAME_RX = re.compile(r"^[a-z_][a-z0-9_]*")
CURRENT_USER = "javascript:gs.getUserID()"
SCRIPT_RX = re.compile(r"^javascript:\s*gs\.(\w+)\((.*)\)\s*;?$")
GLIDE_FORMAT = "%Y-%m-%d %H:%M:%S"


class QueryError(Exception):
    """What is wrong with one term (the Table API answers 400 'Invalid query' with it)."""


@dataclass
class Query:
    where: str = ""
    params: list[Any] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (sql, descending)


# ---------------------------------------------------------------- date scripts
def _day(d: datetime) -> datetime:
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def _end(start: datetime, **span: int) -> datetime:
    """The last second of the period that begins at start."""
    if "months" in span:
        month = start.month - 1 + span["months"]
        nxt = start.replace(year=start.year + month // 12, month=month % 12 + 1)
        return nxt - timedelta(seconds=1)
    return start + timedelta(**span) - timedelta(seconds=1)


def _month_start(d: datetime, back: int = 0) -> datetime:
    month = d.month - 1 - back
    return _day(d).replace(year=d.year + month // 12, month=month % 12 + 1, day=1)


def _periods(now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """(beginning, end) of the named periods of gs.beginningOf<Name>() / gs.endOf<Name>()."""
    today = _day(now)
    week = today - timedelta(days=today.weekday())  # Monday
    month = _month_start(now)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    year = today.replace(month=1, day=1)
    out = {
        "Today": (today, _end(today, days=1)),
        "Yesterday": (today - timedelta(days=1), _end(today - timedelta(days=1), days=1)),
        "Tomorrow": (today + timedelta(days=1), _end(today + timedelta(days=1), days=1)),
        "ThisWeek": (week, _end(week, days=7)),
        "LastWeek": (week - timedelta(days=7), _end(week - timedelta(days=7), days=7)),
        "NextWeek": (week + timedelta(days=7), _end(week + timedelta(days=7), days=7)),
        "ThisMonth": (month, _end(month, months=1)),
        "LastMonth": (_month_start(now, 1), _end(_month_start(now, 1), months=1)),
        "NextMonth": (_month_start(now, -1), _end(_month_start(now, -1), months=1)),
        "ThisQuarter": (quarter, _end(quarter, months=3)),
        "ThisYear": (year, _end(year, months=12)),
        "LastYear": (year.replace(year=year.year - 1), _end(year.replace(year=year.year - 1), months=12)),
        "NextYear": (year.replace(year=year.year + 1), _end(year.replace(year=year.year + 1), months=12)),
    }
    for n in (7, 30, 60, 90):  # the list filter's "Last N days": from N days ago to the end of today
        out[f"Last{n}Days"] = (today - timedelta(days=n), _end(today, days=1))
    return out


def _count(args: str) -> int:
    arg = args.strip().strip("'\"")
    if not re.fullmatch(r"-?\d{1,5}", arg):
        raise ValueError(args)
    return int(arg)


def _ago(unit: str, now: datetime) -> dict[str, Callable[[str], datetime]]:
    """gs.<unit>sAgo(n), gs.<unit>sAgoStart(n), gs.<unit>sAgoEnd(n)."""
    trunc = {"minute": lambda d: d.replace(second=0, microsecond=0),
             "hour": lambda d: d.replace(minute=0, second=0, microsecond=0), "day": _day}[unit]
    step = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}[unit]
    return {
        f"{unit}sAgo": lambda a: now - _count(a) * step,
        f"{unit}sAgoStart": lambda a: trunc(now - _count(a) * step),
        f"{unit}sAgoEnd": lambda a: trunc(now - _count(a) * step) + step - timedelta(seconds=1),
    }


def _date_generate(args: str) -> datetime:
    m = re.fullmatch(r"\s*'([^']*)'\s*,\s*'([^']*)'\s*", args)
    if not m:
        raise ValueError(args)
    day, when = m.groups()
    start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC)
    if when == "start":
        return start
    if when == "end":
        return _end(start, days=1)
    t = datetime.strptime(when, "%H:%M:%S")
    return start.replace(hour=t.hour, minute=t.minute, second=t.second)


DATE_FUNCTIONS = (
    "gs.beginningOf<Period>() and gs.endOf<Period>() for Today, Yesterday, Tomorrow, This/Last/NextWeek, "
    "This/Last/NextMonth, ThisQuarter, This/Last/NextYear, Last7Days (30, 60, 90); gs.daysAgo(n), "
    "gs.daysAgoStart(n), gs.daysAgoEnd(n) (hours..., minutes... likewise), gs.nowDateTime() and "
    "gs.dateGenerate('YYYY-MM-DD', 'start' | 'end' | 'HH:MM:SS')"
)


def date_script(value: str, term: str, now: datetime | None = None) -> str:
    """A date script's value as a stored date-time (UTC, YYYY-MM-DD HH:MM:SS)."""
    now = now or datetime.fromtimestamp(time.time(), UTC).replace(microsecond=0)
    m = SCRIPT_RX.match(value.strip())
    unknown = QueryError(f"'{term}': {value} is not a date script this reference SSI evaluates ({DATE_FUNCTIONS})")
    if not m:
        raise unknown
    name, args = m.groups()
    functions: dict[str, Callable[[str], datetime]] = {"nowDateTime": lambda a: now, "dateGenerate": _date_generate}
    for period, (begin, end) in _periods(now).items():
        functions[f"beginningOf{period}"] = lambda a, b=begin: b
        functions[f"endOf{period}"] = lambda a, e=end: e
    for unit in ("minute", "hour", "day"):
        functions.update(_ago(unit, now))
    fn = functions.get(name)
    if fn is None:
        raise unknown
    if name not in ("dateGenerate", *(n for n in functions if "Ago" in n)) and args.strip():
        raise unknown
    try:
        return fn(args).strftime(GLIDE_FORMAT)
    except ValueError:
        raise QueryError(f"'{term}': {args.strip() or value} is not a date (YYYY-MM-DD) or a count of days, "
                         "hours or minutes") from None


def _date_bound(value: str, term: str, end: bool) -> str:
    """One end of an ON range: a date script, or a literal date (its first or last second) or date-time."""
    value = value.strip()
    if value.startswith("javascript:"):
        return date_script(value, term)
    if GLIDE_TIME_RX.match(value) and _valid_glide_time(value):
        return value if " " in value else value + (" 23:59:59" if end else " 00:00:00")
    raise QueryError(f"'{term}': '{value}' is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS) or a date script")


def _valid_glide_time(value: str) -> bool:
    try:
        time.strptime(value, GLIDE_FORMAT if " " in value else "%Y-%m-%d")
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- terms
def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _convert(call: Call, f: Field, value: str, term: str) -> Any:
    """A query value as the stored value of field f; QueryError when it can never match."""
    if f.type == "boolean":
        v = value.lower()
        if v in ("true", "1"):
            return 1
        if v in ("false", "0"):
            return 0
        raise QueryError(f"'{term}': {f.name} is true or false, not '{value}'")
    if value == CURRENT_USER and f.type == "reference":
        return call.principal.sys_id or ""
    if value.startswith("javascript:"):
        if f.type == "glide_date_time":
            return date_script(value, term)
        raise QueryError(f"'{term}': only {CURRENT_USER} (for a reference) and date scripts (for a date-time) "
                         "are supported as script values")
    if f.type == "choice" and f.choices is not None:
        choices = f.choices(call.profile)
        for v, label in choices:
            if value == v or value.lower() == label.lower():
                return int(v) if v.lstrip("-").isdigit() else v
        known = ", ".join(f"{v} ({label})" for v, label in choices)
        raise QueryError(f"'{term}': '{value}' is not a choice of {f.name}; choices: {known}")
    if f.type == "integer":
        try:
            number = int(value)
        except ValueError:
            raise QueryError(f"'{term}': {f.name} is a whole number, not '{value}'") from None
        if abs(number) > MAX_INT:
            raise QueryError(f"'{term}': {value} is too large for {f.name}")
        return number
    if f.type == "glide_date_time" and value and not GLIDE_TIME_RX.match(value):
        raise QueryError(f"'{term}': {f.name} is a date-time written YYYY-MM-DD HH:MM:SS, not '{value}'")
    return value


def _on_range(f: Field, op: str, value: str, term: str) -> tuple[str, list[Any]]:
    if f.type != "glide_date_time":
        raise QueryError(f"'{term}': {op} compares date-times; {f.name} is a {f.type} field")
    parts = value.split("@")
    if len(parts) != 3:
        raise QueryError(f"'{term}': {op} needs a date range, {op}<label>@<start>@<end>, e.g. "
                         "ONToday@javascript:gs.beginningOfToday()@javascript:gs.endOfToday()")
    start, end = _date_bound(parts[1], term, end=False), _date_bound(parts[2], term, end=True)
    col = f.sql
    if op == "ON":
        return f"({col} >= ? AND {col} <= ?)", [start, end]
    return f"({col} < ? OR {col} > ? OR {col} IS NULL OR {col} = '')", [start, end]


def _condition(call: Call, t: TableDef, term: str) -> tuple[str, list[Any]]:
    f, op, value = _split_term(call, t, term)
    col = f.sql
    if op == "ISEMPTY":
        return f"({col} IS NULL OR {col} = '')", []
    if op == "ISNOTEMPTY":
        return f"({col} IS NOT NULL AND {col} != '')", []
    if op == "EMPTYSTRING":
        return f"{col} = ''", []
    if op == "ANYTHING":
        return "1=1", []
    if op in ("ON", "NOTON"):
        return _on_range(f, op, value, term)
    if op in ("LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"):
        pattern = {"LIKE": "%{}%", "NOT LIKE": "%{}%", "STARTSWITH": "{}%", "ENDSWITH": "%{}"}[op]
        sql = f"{col} {'NOT LIKE' if op == 'NOT LIKE' else 'LIKE'} ? ESCAPE '\\'"
        return (f"({sql} OR {col} IS NULL)" if op == "NOT LIKE" else sql), [pattern.format(_like_escape(value))]
    if op in ("IN", "NOT IN"):
        values = [_convert(call, f, v.strip(), term) for v in value.split(",")]
        marks = ",".join("?" * len(values))
        return (f"{col} IN ({marks})" if op == "IN" else f"({col} NOT IN ({marks}) OR {col} IS NULL)"), values
    if op in ("=", "!=") and value == "":
        return (f"({col} IS NULL OR {col} = '')" if op == "=" else f"({col} IS NOT NULL AND {col} != '')"), []
    v = _convert(call, f, value, term)
    if op == "!=":
        return f"({col} != ? OR {col} IS NULL)", [v]
    return f"{col} {op} ?", [v]


def _split_term(call: Call, t: TableDef, term: str) -> tuple[Field, str, str]:
    """(field, operator, value) of a term: the longest field name followed by an operator."""
    readable = {f.name for f in t.readable_fields(call)}
    for i in range(len(term), 0, -1):
        name = term[:i]
        f = t.field(name)
        if f is None or name not in readable:
            continue
        rest = term[i:]
        for op in OPERATORS:
            if rest.startswith(op):
                if not f.queryable:
                    raise QueryError(f"'{term}': {f.name} cannot be used in a query")
                return f, op, rest[len(op):]
    supported = ", ".join(OPERATORS)
    m = FIELD_NAME_RX.match(term)
    if not m:
        raise QueryError(f"'{term}' is not FIELD OPERATOR VALUE (operators: {supported})")
    name, rest = m.group(0), term[m.end():]
    if rest.startswith("."):
        following = FIELD_NAME_RX.match(rest[1:])
        walk = f"{name}.{following.group(0) if following else ''}"
        raise QueryError(f"'{term}': dot-walking ({walk}) is not supported by this reference SSI: query the "
                         "referenced table, then this one by the reference's sys_id")
    if t.field(name) is None or name not in readable:
        # the longest run of lower-case letters, digits and _ may have swallowed no operator: name it plainly
        raise QueryError(f"'{term}': {t.name} has no field '{name}'")
    unsupported = next((op for op in UNSUPPORTED if rest.startswith(op)), None)
    if unsupported:
        raise QueryError(f"'{term}': operator {unsupported} is not supported by this reference SSI "
                         f"(supported: {supported})")
    if not rest:
        raise QueryError(f"'{term}': the field {name} needs an operator and a value (operators: {supported})")
    raise QueryError(f"'{term}': after the field {name}, '{rest[:24]}' starts with no known operator "
                     f"(supported here: {supported})")


def parse_query(call: Call, t: TableDef, encoded: str) -> Query:
    """sysparm_query as a WHERE clause with its parameters and an ORDER BY list."""
    q = Query()
    groups: list[str] = []
    for block in encoded.split("^NQ"):
        ands: list[str] = []  # each an OR-group in parentheses
        for term in block.split("^"):
            term = term.strip()
            if not term or term == "EQ":
                continue
            if term.startswith("ORDERBYDESC") or term.startswith("ORDERBY"):
                desc = term.startswith("ORDERBYDESC")
                name = term[len("ORDERBYDESC" if desc else "ORDERBY"):]
                f = t.field(name)
                if f is None or not f.queryable or f not in t.readable_fields(call):
                    raise QueryError(f"'{term}': {t.name} has no sortable field '{name}'")
                q.order.append((f.sql, desc))
                continue
            if term.startswith("OR") and not term.startswith("ORDERBY"):
                if not ands:
                    raise QueryError(f"'{term}': ^OR needs a condition before it")
                sql, params = _condition(call, t, term[2:])
                ands[-1] = ands[-1][:-1] + f" OR {sql})"
                q.params.extend(params)
                continue
            sql, params = _condition(call, t, term)
            ands.append(f"({sql})")
            q.params.extend(params)
        if ands:
            groups.append("(" + " AND ".join(ands) + ")")
    q.where = " OR ".join(groups)
    return q
