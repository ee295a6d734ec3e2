"""The step library: pytest plugins (registered in conftest.py) that bind the features' wording.

TYPES are the parse types the step patterns share (`parsers.parse("... {role:Quotes}", extra_types=TYPES)`):
each one accepts exactly the words a regex alternation accepted before, so a pattern reads like the
feature's sentence and no two patterns match one line.
"""

from __future__ import annotations

import re

from parse import with_pattern


def _one_of(*words: str):
    return with_pattern("|".join(re.escape(w) for w in words))(lambda text: text)


def _as_action(verbs: dict[str, str]):
    """One of the verbs, given to the step as the state it leads to ('dispatches' -> 'dispatched')."""
    return with_pattern("|".join(re.escape(v) for v in verbs))(lambda text: verbs[text])


@with_pattern(r'".+"')
def _quotes(text: str) -> list[str]:
    """'"A" and "B"' -> ['A', 'B']."""
    return re.findall(r'"([^"]+)"', text)


@with_pattern(r'none|<\w+>|"[^"]+"(?:(?:, | and )"[^"]+")*')
def _quotes_or_none(text: str) -> list[str]:
    """'"A", "B" and "C"' -> ['A', 'B', 'C']; 'none' -> []. (An outline's `<column>` matches too, for `uept check`
    of a template whose rows are generated at collection: pytest-bdd fills the rows in before it binds a step.)"""
    return re.findall(r'"([^"]+)"', text)


TYPES = {
    "Who": _one_of("new", "migrated"),  # the {who:Who} user: the account the scenario created or found
    "Quotes": _quotes,
    "QuotesOrNone": _quotes_or_none,
    "Quoted": with_pattern(r'[^"]+')(lambda text: text),  # inside quotes: never past the closing one
    "MaybeEmpty": with_pattern(r'[^"]*')(lambda text: text),  # inside quotes, possibly nothing
    "Digits": with_pattern(r"\d+")(lambda text: text),
    "Direction": _one_of("ascending", "descending"),
    "Item": with_pattern(r"(?:first|second|third) (?:CH variant|auxiliary item)")(lambda text: text),
    "WithinOrBeyond": _one_of("within", "beyond", "exactly at the edge of", "one unit beyond"),
    "WithinOrOutside": _one_of("within", "outside"),
    # what DCC or a carrier does, as the operator control's action
    "DispatchesOrDelivers": _as_action({"dispatches": "dispatched", "delivers": "delivered"}),
    "DccOrCarrier": _one_of("DCC", "the carrier"),
    "DccFileAction": _as_action({"accepts": "accept", "rejects": "reject", "processes": "process"}),
    # how long a typed text is, against its limit (incidents.limits): the characters beyond it
    "TextLength": _as_action({"one character longer than": 1, "exactly as long as": 0}),
    # a limited text of the ticket page, as its incidents.limits key (also its labels.incident key)
    "LimitedTicketText": _as_action({"update text": "comment", "resolution notes": "close_notes"}),
    # an order line's quantity against the largest consignment (oms.consignment_max_quantity): the units beyond it
    "ConsignmentSize": _as_action({"exactly the largest consignment": 0,
                                   "one unit more than the largest consignment": 1}),
    "ReturnAction": _as_action({"authorises": "authorised", "collects": "collected", "receives": "received",
                                "closes": "closed"}),
}
