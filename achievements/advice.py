"""One piece of advice from a person's own figures (pure: no Django, no store).

Never "post more": the advice points at what already works for them — the kind of post, the
network, the hour, or the person that draws their audience's action — with the number behind it.

The rules exist twice from one source: `advice_for` applies them to one person in Python, and
`advice_sql` writes the same rules and sentences as one SQL expression, so a day's notices for a
million people are built in the database (a test holds the two to the same output).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

KIND_WORDS = {"original": "original posts", "reshare": "reshares", "reply": "replies"}

KIND_MIN_SHARE = 60
NETWORK_MIN_SHARE = 50
HOUR_MIN_SHARE = 10

KIND_ADVICE = (
    "Your {words} drew {share}% of the reactions to your posts: "
    "that is the kind of post your audience answers."
)
NETWORK_ADVICE = (
    "{share}% of your reactions came from {network}: that is where your audience listens."
)
HOUR_ADVICE = (
    "{share}% of your reactions arrive between {start}:00 and {end}:00 UTC: "
    "share shortly before then."
)
PERSON_ADVICE = (
    "@{handle} acts on your posts more than anyone: reply to them and keep the conversation going."
)


@dataclass(frozen=True)
class AdviceFigures:
    """Where a person's reactions came from in the scoring window."""

    actions_received: int = 0
    top_post_kind: str = ""
    top_post_kind_share: int = 0  # percent of reactions on their posts
    top_network_label: str = ""
    top_network_share: int = 0  # percent of all reactions
    top_hour: int | None = None  # UTC
    top_hour_share: int = 0
    top_influencee_handle: str = ""


def advice_for(f: AdviceFigures) -> str:
    """The most telling piece of advice the figures support, or "" when they support none."""
    if f.actions_received <= 0:
        return ""
    if f.top_post_kind in KIND_WORDS and f.top_post_kind_share >= KIND_MIN_SHARE:
        return KIND_ADVICE.format(words=KIND_WORDS[f.top_post_kind], share=f.top_post_kind_share)
    if f.top_network_label and NETWORK_MIN_SHARE <= f.top_network_share < 100:
        return NETWORK_ADVICE.format(share=f.top_network_share, network=f.top_network_label)
    if f.top_hour is not None and f.top_hour_share >= HOUR_MIN_SHARE:
        return HOUR_ADVICE.format(
            share=f.top_hour_share, start=f"{f.top_hour:02d}", end=f"{(f.top_hour + 1) % 24:02d}"
        )
    if f.top_influencee_handle:
        return PERSON_ADVICE.format(handle=f.top_influencee_handle)
    return ""


Sql = tuple[str, list[object]]


def sql_text(template: str, parts: Mapping[str, str | Sql]) -> Sql:
    """A `str.format` template as an SQL string expression: literals become parameters and each
    {name} the SQL text expression `parts[name]` (SQL, or SQL and its parameters). Portable."""
    pieces: list[str] = []
    params: list[object] = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2:
            part = parts[piece]
            sql, more = (part, []) if isinstance(part, str) else part
            pieces.append(f"({sql})")
            params.extend(more)
        elif piece:
            pieces.append("%s")
            params.append(piece)
    return " || ".join(pieces), params


def _two_digits(expr: str) -> str:
    return f"CASE WHEN ({expr}) < 10 THEN '0' ELSE '' END || CAST(({expr}) AS TEXT)"


def advice_sql(columns: Mapping[str, str]) -> Sql:
    """`advice_for` as one SQL expression over columns named like `AdviceFigures`' fields
    (`columns[field]` is the SQL for that figure; NULL counts as 0 or ""); "" when no advice."""
    c = {name: columns[name] for name in AdviceFigures.__dataclass_fields__}
    actions = f"COALESCE({c['actions_received']}, 0)"
    kind = f"COALESCE({c['top_post_kind']}, '')"
    kind_share = f"COALESCE({c['top_post_kind_share']}, 0)"
    network = f"COALESCE({c['top_network_label']}, '')"
    network_share = f"COALESCE({c['top_network_share']}, 0)"
    hour, hour_share = c["top_hour"], f"COALESCE({c['top_hour_share']}, 0)"
    handle = f"COALESCE({c['top_influencee_handle']}, '')"
    words = "CASE " + kind + " " + " ".join("WHEN %s THEN %s" for _ in KIND_WORDS) + " END"
    words_params: list[object] = [v for pair in KIND_WORDS.items() for v in pair]
    kind_text, kind_params = sql_text(
        KIND_ADVICE, {"words": (words, words_params), "share": f"CAST({kind_share} AS TEXT)"}
    )
    network_text, network_params = sql_text(
        NETWORK_ADVICE, {"share": f"CAST({network_share} AS TEXT)", "network": network}
    )
    hour_text, hour_params = sql_text(
        HOUR_ADVICE,
        {
            "share": f"CAST({hour_share} AS TEXT)",
            "start": _two_digits(hour),
            "end": _two_digits(f"CASE WHEN ({hour}) >= 23 THEN 0 ELSE ({hour}) + 1 END"),
        },
    )
    person_text, person_params = sql_text(PERSON_ADVICE, {"handle": handle})
    kinds = ", ".join("%s" for _ in KIND_WORDS)
    sql = (
        f"CASE WHEN {actions} <= 0 THEN '' "
        f"WHEN {kind} IN ({kinds}) AND {kind_share} >= %s THEN {kind_text} "
        f"WHEN {network} <> '' AND {network_share} >= %s AND {network_share} < 100 "
        f"THEN {network_text} "
        f"WHEN ({hour}) IS NOT NULL AND {hour_share} >= %s THEN {hour_text} "
        f"WHEN {handle} <> '' THEN {person_text} ELSE '' END"
    )
    params = [
        *KIND_WORDS,
        KIND_MIN_SHARE,
        *kind_params,
        NETWORK_MIN_SHARE,
        *network_params,
        HOUR_MIN_SHARE,
        *hour_params,
        *person_params,
    ]
    return sql, params
