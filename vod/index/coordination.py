"""Any-words ranking: a talk with more of the query's words ranks above one with fewer (#12).

When no talk (or too few to fill a page) has every word, the search also lists talks with some
of them. Scored as one OR, a talk with a single rare word outranks one with three common ones,
and Whoosh's OrGroup bonus for matching more words is lost when the query is normalised (the
nested ORs of each word's fields are flattened into one). So each word (each clause of the
all-words query) is scored on its own, and a talk's score is lifted by how many it matched.
"""

from __future__ import annotations

from collections.abc import Callable

from whoosh import query as wq

Scores = dict[int, float]


def clauses(q: wq.Query) -> tuple[list[wq.Query], list[wq.Query]]:
    """The words of an all-words query (its AND's clauses), and the ones it excludes (NOT)."""
    if isinstance(q, wq.And):
        positive = [sub for sub in q.subqueries if not isinstance(sub, wq.Not)]
        negative = [sub.query for sub in q.subqueries if isinstance(sub, wq.Not)]
        return positive, negative
    if isinstance(q, wq.AndNot):
        positive, negative = clauses(q.a)
        return positive, [*negative, q.b]
    return [q], []


def several(q: wq.Query) -> bool:
    """Tell whether an all-words query has more than one word to match: with one, talks with
    some of its words are the talks with all of them, found already (four in ten distinct
    searches on pyvideo are one word, most of them with fewer than a page of results)."""
    return len(clauses(q)[0]) > 1


def coordinated(q: wq.Query, score: Callable[[wq.Query], Scores]) -> Scores:
    """Score talks with any clause of `q`: more clauses matched first, then the summed score.

    `score` scores one clause over every talk. The lift is the largest summed score, so one
    more clause always outranks any score a talk with fewer clauses can reach.
    """
    positive, negative = clauses(q)
    totals: Scores = {}
    # Clauses matched beyond the first, for the talks that matched two or more: a common word
    # matches thousands of talks, and only the talks two words share are walked in Python.
    extra: dict[int, int] = {}
    for clause in positive:
        more = score(clause)
        if not totals:
            totals = dict(more)
            continue
        new = dict(more)
        for docnum in totals.keys() & more.keys():
            totals[docnum] += new.pop(docnum)
            extra[docnum] = extra.get(docnum, 0) + 1
        totals.update(new)
    for clause in negative:
        for docnum in score(clause):
            totals.pop(docnum, None)
    if not totals:
        return {}
    lift = max(totals.values())
    for docnum, clauses_more in extra.items():
        if docnum in totals:
            totals[docnum] += clauses_more * lift
    return totals
