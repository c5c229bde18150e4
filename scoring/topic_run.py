"""Topics inside the scoring run: the Django side of `scoring.engine.topics`.

`prepare_topics(window)` reads the window's post tags (and hashtags in post text) in one query
and maps them to ontology topics before the engine runs, so the style's Broad/Focused axis can
use topic breadth. `write_topic_scores(...)` runs topic inference on the engine's result and
writes the run's `TopicScore` rows (COPY on PostgreSQL). The ontology, its aliases and the
Aho-Corasick automaton are loaded once per process and rebuilt when the ontology changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from networks.models import Network, Post
from scoring import write
from scoring.collect import Window
from scoring.engine.score import EngineResult
from scoring.engine.topics import (
    CodedTags,
    Evidence,
    Ontology,
    PostTopics,
    TagCodes,
    TopicMatcher,
    TopicResult,
    topic_breadth,
    topic_scores,
)
from scoring.engine.types import Posts
from scoring.models import ScoringRun
from scoring.plusk import PlusK
from scoring.topics import ChoiceState, Topic, TopicAlias, TopicChoice, TopicEdge, TopicScore

HASHTAG = re.compile(r"(?<![\w&])#(\w[\w-]{1,60})", re.UNICODE)
HASHTAG_NETWORKS = {Network.X, Network.MASTODON, Network.BLUESKY, Network.HIGGS}

IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class Loaded:
    """The ontology as the engine sees it, with its matcher."""

    key: tuple[int, ...]
    ontology: Ontology
    matcher: TopicMatcher
    index: dict[str, int]


_loaded: Loaded | None = None


def _ontology_key() -> tuple[int, ...]:
    from scoring.ontology import generation

    last_alias = TopicAlias.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    counts = (Topic.objects.count(), TopicEdge.objects.count(), TopicAlias.objects.count())
    return (*counts, last_alias, generation())


def loaded_ontology() -> Loaded | None:
    """The imported ontology and its automaton (None when no ontology was imported)."""
    global _loaded
    key = _ontology_key()
    if key[0] == 0:
        return None
    if _loaded is not None and _loaded.key == key:
        return _loaded
    rows = list(Topic.objects.order_by("pk").values_list("pk", "depth"))
    ids = [r[0] for r in rows]
    ontology = Ontology.build(
        ids, [r[1] for r in rows], TopicEdge.objects.values_list("parent_id", "child_id")
    )
    index = {t: i for i, t in enumerate(ids)}
    aliases: dict[str, list[int]] = {}
    for alias, topic_id in TopicAlias.objects.values_list("alias", "topic_id").iterator(10_000):
        aliases.setdefault(alias, []).append(index[topic_id])
    _loaded = Loaded(
        key=key, ontology=ontology, matcher=TopicMatcher(aliases, ontology), index=index
    )
    return _loaded


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The window's posts mapped to topics (empty when there is no ontology)."""

    loaded: Loaded | None
    post_topics: PostTopics | None
    breadth: npt.NDArray[np.float64] | None
    tagged_posts: int = 0
    anonymous: npt.NDArray[np.float64] | None = None  # per post: up-votes with no one behind

    def stats(self) -> dict[str, Any]:
        """What the mapping did, for the run's stats (unmapped tags kept as evidence)."""
        if self.post_topics is None:
            return {"topics": "no ontology imported"}
        mapped = np.unique(self.post_topics.post).shape[0]
        top_unmapped = Counter(self.post_topics.unmapped).most_common(20)
        return {
            "tagged_posts": self.tagged_posts,
            "posts_with_topics": int(mapped),
            "unmapped_tags": dict(top_unmapped),
        }


def post_tags(window: Window) -> tuple[CodedTags, npt.NDArray[np.float64]]:
    """Per dense post index, its tags plus hashtags in the text of networks that use them,
    integer-coded as the rows stream in (no list per post is kept), and its anonymous
    reactions (up-votes counted by the network, no one behind them)."""
    codes = TagCodes.build()
    anonymous = np.zeros(window.post_ids.shape[0])
    rows = (
        Post.objects.filter(posted_at__gte=window.start, posted_at__lt=window.end)
        .order_by("pk")
        .values_list("pk", "network", "tags", "text", "anonymous_reactions")
    )
    ids = window.post_ids.tolist()  # ascending, as the rows come
    i = 0
    for pk, network, post_tags_, text, votes in rows.iterator(chunk_size=20_000):
        while i < len(ids) and ids[i] < pk:
            codes.add_post(())  # a window post without a row (cannot happen; kept aligned)
            i += 1
        if i >= len(ids) or ids[i] != pk:
            continue  # an author hidden since: not in the window
        found = [str(t) for t in (post_tags_ or []) if t]
        if network in HASHTAG_NETWORKS and text and "#" in text:
            found += HASHTAG.findall(text)
        codes.add_post(found)
        anonymous[i] = votes
        i += 1
    while i < len(ids):
        codes.add_post(())
        i += 1
    return codes.freeze(), anonymous


def prepare_topics(window: Window) -> Prepared:
    """Map the window's posts to topics (before the engine runs: breadth feeds the style)."""
    loaded = loaded_ontology()
    if loaded is None or window.post_ids.shape[0] == 0:
        return Prepared(loaded=loaded, post_topics=None, breadth=None)
    tags, anonymous = post_tags(window)
    post_topics = loaded.matcher.match_codes(tags)
    breadth = topic_breadth(
        window.posts.author.astype(np.int64), post_topics, loaded.ontology, len(window.posts)
    )
    return Prepared(
        loaded=loaded,
        post_topics=post_topics,
        breadth=breadth,
        tagged_posts=int((np.diff(tags.indptr) > 0).sum()),
        anonymous=anonymous if anonymous.any() else None,
    )


def with_topic_breadth(posts: Posts, prepared: Prepared) -> Posts:
    """The window's posts with their authors' topic breadth, when topics are known."""
    if prepared.breadth is None:
        return posts
    return dataclasses.replace(posts, topic_breadth=prepared.breadth)


def _choices(
    loaded: Loaded, user_ids: list[int], n: int
) -> tuple[tuple[IntArray, IntArray], tuple[IntArray, IntArray]]:
    """(added, hidden) as (subject index, topic index): a person's rows are n + their position."""
    position = {u: n + g for g, u in enumerate(user_ids)}
    added: tuple[list[int], list[int]] = ([], [])
    hidden: tuple[list[int], list[int]] = ([], [])
    for user_id, topic_id, state in TopicChoice.objects.values_list("user_id", "topic_id", "state"):
        if user_id not in position or topic_id not in loaded.index:
            continue
        target = hidden if state == ChoiceState.HIDDEN else added
        target[0].append(position[user_id])
        target[1].append(loaded.index[topic_id])
    as_arrays = [
        (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)) for a, b in (added, hidden)
    ]
    return as_arrays[0], as_arrays[1]


def _plus_k(
    loaded: Loaded, window: Window, user_ids: list[int]
) -> tuple[IntArray, IntArray, IntArray]:
    """+K standing at the window's end as (giver, receiver, topic) person indices.

    A person is represented by their first linked account in the window (or a spare index past
    the window's people, so rings of givers are still seen); +K to an account goes to it.
    """
    n = window.interactions.n_people
    first = {u: window.groups[u][0] for u in user_ids if window.groups.get(u)}
    spare: dict[int, int] = {}

    def person(user_id: int) -> int:
        if user_id in first:
            return first[user_id]
        return spare.setdefault(user_id, n + len(spare))

    giver_l: list[int] = []
    recv_l: list[int] = []
    topic_l: list[int] = []
    rows = (
        PlusK.objects.live()
        .filter(created_at__lt=window.end, created_at__gte=window.start)
        .values_list("giver_id", "receiver_user_id", "receiver_account_id", "topic_id")
    )
    for giver, r_user, r_account, topic_id in rows.iterator(chunk_size=10_000):
        if topic_id not in loaded.index:
            continue
        if r_user is not None:
            if r_user not in first:
                continue
            receiver = first[r_user]
        else:
            receiver = window.index_of(int(r_account))
            if receiver < 0:
                continue
        giver_l.append(person(giver))
        recv_l.append(receiver)
        topic_l.append(loaded.index[topic_id])
    return (
        np.asarray(giver_l, dtype=np.int64),
        np.asarray(recv_l, dtype=np.int64),
        np.asarray(topic_l, dtype=np.int64),
    )


def infer_topics(*, window: Window, result: EngineResult, prepared: Prepared) -> TopicResult | None:
    """Topic scores for every account of the window and every linked person (or None)."""
    loaded = prepared.loaded
    if loaded is None or prepared.post_topics is None:
        return None
    n = window.interactions.n_people
    user_ids = sorted(window.groups)
    added, hidden = _choices(loaded, user_ids, n)
    inter = window.interactions
    return topic_scores(
        n_people=n,
        actor=inter.actor,
        receiver=inter.receiver,
        post=inter.post,
        influence=result.influence,
        # anonymous reactions count with the neutral weight, decayed by the post's age
        evidence=Evidence(
            author=window.posts.author.astype(np.int64),
            time=window.posts.time,
            anonymous=prepared.anonymous,
        ),
        post_topics=prepared.post_topics,
        ontology=loaded.ontology,
        as_of=window.as_of,
        plus_k=_plus_k(loaded, window, user_ids),
        added=added,
        hidden=_hidden_for_members(hidden, window, user_ids, n),
        groups=[window.groups[u] for u in user_ids],
    )


def _hidden_for_members(
    hidden: tuple[IntArray, IntArray], window: Window, user_ids: list[int], n: int
) -> tuple[IntArray, IntArray]:
    """A topic a person hid is hidden on their linked accounts' own rows too."""
    subj, topic = hidden
    extra_s: list[int] = []
    extra_t: list[int] = []
    for s, t in zip(subj.tolist(), topic.tolist(), strict=True):
        for member in window.groups[user_ids[s - n]]:
            extra_s.append(member)
            extra_t.append(t)
    return (
        np.concatenate([subj, np.asarray(extra_s, dtype=np.int64)]),
        np.concatenate([topic, np.asarray(extra_t, dtype=np.int64)]),
    )


_COLUMNS = (
    "run_id",
    "day",
    "account_id",
    "user_id",
    "topic_id",
    "score",
    "raw",
    "rank",
    "posts",
    "reactions",
    "reactors",
    "plus_k",
    "added",
    "inherited",
    "evidence",
)


def write_topic_scores(
    *, run: ScoringRun, window: Window, result: EngineResult, prepared: Prepared
) -> dict[str, Any]:
    """Infer and write the run's topic scores; return stats for the run."""
    topics = infer_topics(window=window, result=result, prepared=prepared)
    stats = prepared.stats()
    if topics is None or prepared.loaded is None:
        return stats
    ids = prepared.loaded.ontology.ids
    n = window.interactions.n_people
    user_ids = sorted(window.groups)
    accounts = window.account_ids.tolist()
    post_ids = window.post_ids.tolist()
    day: dt.date = run.day

    columns = zip(
        topics.subject.tolist(),
        topics.topic.tolist(),
        topics.score.tolist(),
        topics.raw.tolist(),
        topics.rank.tolist(),
        topics.posts.tolist(),
        topics.reactions.tolist(),
        topics.reactors.tolist(),
        topics.plus_k.tolist(),
        topics.added.tolist(),
        topics.inherited.tolist(),
        topics.evidence,
        strict=True,
    )
    rows = (
        (
            run.pk,
            day,
            accounts[s] if s < n else None,
            user_ids[s - n] if s >= n else None,
            ids[t],
            float(score),
            float(raw),
            int(rank),
            int(posts),
            int(reactions),
            int(reactors),
            int(pk),
            bool(added),
            bool(inherited),
            [post_ids[p] for p in evidence],
        )
        for s, t, score, raw, rank, posts, reactions, reactors, pk, added, inherited, evidence in (
            columns
        )
    )
    write.insert(TopicScore, _COLUMNS, rows, with_ids=False)
    stats["topic_scores"] = len(topics)
    return stats
