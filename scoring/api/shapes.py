"""The API's answers as pure functions of a subject's card (no database, no Django).

A card (see `scoring.api.cards`) holds every figure any answer needs; the legacy shapes here are
byte-compatible with the original Klout API (`../shared/specs/klout-api.md`): the same field names
and types, all ids as strings, and the original's own naming quirks (`scoreDelta` on `/score`,
`scoreDeltas` elsewhere).
"""

from __future__ import annotations

import json
from typing import Any

from scoring.engine.styles import STYLES

# The 16 influencer styles in the order of ../shared/specs/scoring.md (the engine's list, the one
# spelling); kclass_id is position + 1.
STYLE_ORDER = tuple(STYLES)
# A subject without a style yet (too little activity to place) is an Observer: the pole of
# sharing, broad, listening and casual that the style grid gives to the least active.
DEFAULT_STYLE = "Observer"
STYLE_DESCRIPTIONS = {
    "Curator": "finds and shares the best content from others, steadily, across many subjects.",
    "Broadcaster": "creates content across many subjects and publishes it to an audience steadily.",
    "Taste Maker": "creates broadly now and then, and people act on what they pick up.",
    "Celebrity": "creates focused content, engages a lot and steadily; people follow closely.",
    "Syndicator": "shares focused content from others, regularly, to an audience that trusts it.",
    "Feeder": "shares focused content and talks about it, consistently: people rely on the feed.",
    "Thought Leader": "creates focused content on a regular schedule; people act on the ideas.",
    "Pundit": "creates focused content and joins the conversation about it.",
    "Dabbler": "shares and talks across many subjects, on and off.",
    "Conversationalist": "creates and converses across many subjects; people answer back.",
    "Socializer": "shares and talks across many subjects, steadily: a hub of the circle.",
    "Networker": "creates and talks across subjects, steadily: connects people to each other.",
    "Observer": "mostly listens; shares little and rarely, so far.",
    "Explorer": "shares focused finds now and then, listening more than talking.",
    "Activist": "shares focused content and argues for it, in bursts.",
    "Specialist": "creates focused content now and then for a knowledgeable audience.",
}
# (lowest score of the band, words) -- the wording is ours; the field is the original's.
SCORE_DESCRIPTIONS = (
    (90, "is among the most influential people anywhere: what they share moves large audiences."),
    (80, "has wide influence: their content is acted on far beyond their own circles."),
    (70, "is very influential: many people act on what they share."),
    (60, "is influential well beyond their own network."),
    (50, "has strong influence: people reliably act on what they share."),
    (40, "has solid influence: their network often acts on what they share."),
    (30, "has growing influence within their network."),
    (20, "has some influence: people act on what they share now and then."),
    (10, "has modest influence so far."),
    (1, "is just getting started: little action on their content yet."),
)
BUCKETS = ("1-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90-100")
TOPIC_TYPES = ("sub", "entity")
LEGACY_INFLUENCE_SHOWN = 5


def legacy_bucket(score: float) -> str:
    """The original's decile band: "1-9", "10-19", ... "80-89", "90-100"."""
    return BUCKETS[min(max(int(score) // 10, 0), 9)]


def style_name(style: str) -> str:
    """The canonical style name for a stored style ("conversationalist" -> "Conversationalist")."""
    wanted = style.strip().lower()
    for name in STYLE_ORDER:
        if name.lower() == wanted:
            return name
    return DEFAULT_STYLE


def kclass_id(style: str) -> int:
    """The style's number, 1-16, in the order of the scoring spec."""
    return STYLE_ORDER.index(style_name(style)) + 1


def score_description(score: float) -> str:
    for low, words in SCORE_DESCRIPTIONS:
        if score >= low:
            return words
    return SCORE_DESCRIPTIONS[-1][1]


def _delta(value: float | None) -> float:
    return float(value) if value is not None else 0.0


def deltas(card: dict[str, Any]) -> dict[str, float]:
    return {
        "dayChange": _delta(card.get("change_1d")),
        "weekChange": _delta(card.get("change_7d")),
        "monthChange": _delta(card.get("change_30d")),
    }


# --- v2 -----------------------------------------------------------------------------------------


def v2_user(card: dict[str, Any]) -> dict[str, Any]:
    """`/v2/user.json/{kloutId}` (also the ENTITY payload of the influence lists)."""
    return {
        "kloutId": card["kloutId"],
        "nick": card["nick"],
        "score": {"score": float(card["score"]), "bucket": legacy_bucket(card["score"])},
        "scoreDeltas": deltas(card),
    }


def v2_score(card: dict[str, Any]) -> dict[str, Any]:
    """`/v2/user.json/{kloutId}/score`: `scoreDelta` (singular) and `bucket` at the top."""
    return {
        "score": float(card["score"]),
        "scoreDelta": deltas(card),
        "bucket": legacy_bucket(card["score"]),
    }


def v2_topics(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(t["id"]),
            "displayName": t["displayName"],
            "name": t["name"],
            "slug": t["slug"],
            "imageUrl": t.get("imageUrl", ""),
            "topicType": t["topicType"],
        }
        for t in card.get("topics", [])
    ]


def _entity(brief: dict[str, Any]) -> dict[str, Any]:
    return {"entity": {"id": brief["kloutId"], "payload": v2_user(brief)}}


def v2_influence(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "myInfluencers": [_entity(b) for b in card["influencers"][:LEGACY_INFLUENCE_SHOWN]],
        "myInfluencees": [_entity(b) for b in card["influencees"][:LEGACY_INFLUENCE_SHOWN]],
        "myInfluencersCount": int(card["influencers_count"]),
        "myInfluenceesCount": int(card["influencees_count"]),
    }


# --- v1 -----------------------------------------------------------------------------------------


def v1_klout(card: dict[str, Any], screen_name: str) -> dict[str, Any]:
    return {"twitter_screen_name": screen_name, "kscore": float(card["score"])}


def v1_show(card: dict[str, Any], screen_name: str, twitter_id: str) -> dict[str, Any]:
    style = style_name(card.get("style", ""))
    return {
        "twitter_id": twitter_id,
        "twitter_screen_name": screen_name,
        "score": {
            "kscore": float(card["score"]),
            "slope": _delta(card.get("change_30d")),
            "description": card.get("style_reason") or STYLE_DESCRIPTIONS[style],
            "kclass_id": kclass_id(style),
            "kclass": style,
            "kclass_description": STYLE_DESCRIPTIONS[style],
            "kscore_description": score_description(card["score"]),
            "network_score": float(card["network_score"]),
            "amplification_score": float(card["amplification"]),
            "true_reach": round(card["true_reach"]),
            "delta_1day": _delta(card.get("change_1d")),
            "delta_5day": _delta(card.get("change_5d")),
        },
    }


def v1_topics(card: dict[str, Any], screen_name: str) -> dict[str, Any]:
    return {
        "twitter_screen_name": screen_name,
        "topics": [t["displayName"] for t in card.get("topics", [])[:3]],
    }


def v1_people(card: dict[str, Any], screen_name: str, which: str) -> dict[str, Any]:
    """`influenced_by` lists influencers, `influencer_of` influencees (up to 5 each)."""
    key = "influencers" if which == "influencers" else "influencees"
    return {
        "twitter_screen_name": screen_name,
        key: [
            {"twitter_screen_name": b["screen_name"], "kscore": float(b["score"])}
            for b in card[key][:LEGACY_INFLUENCE_SHOWN]
        ],
    }


def dumps(body: Any) -> bytes:
    """Compact JSON as bytes (what is cached and served)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# --- modern (/api/v1/) ----------------------------------------------------------------------


def modern_subject(card: dict[str, Any]) -> dict[str, Any]:
    """The modern API's subject: every figure of the latest published day, named plainly."""
    style = style_name(card.get("style", ""))
    return {
        "kloutId": card["kloutId"],
        "kind": card["kind"],
        "nick": card["nick"],
        "name": card["name"],
        "network": card["network"],
        "day": card["day"],
        "version": card["version"],
        "score": float(card["score"]),
        "bucket": legacy_bucket(card["score"]),
        "changes": {
            "day": card.get("change_1d"),
            "fiveDays": card.get("change_5d"),
            "week": card.get("change_7d"),
            "month": card.get("change_30d"),
        },
        "subscores": {
            "trueReach": round(card["true_reach"]),
            "amplification": float(card["amplification"]),
            "network": float(card["network_score"]),
        },
        "style": {
            "id": kclass_id(style),
            "name": style,
            "description": STYLE_DESCRIPTIONS[style],
            "reason": card.get("style_reason", ""),
        },
        "scoreDescription": score_description(card["score"]),
        "influencersCount": int(card["influencers_count"]),
        "influenceesCount": int(card["influencees_count"]),
        "publishedAt": card["published_at"],
    }
