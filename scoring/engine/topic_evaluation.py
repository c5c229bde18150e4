"""The spec's topic evaluation (item 6) on the Stack Exchange dump (pure Python + numpy).

T = the median creation time of answers that have an owner. Reactions = up-votes plus comments by
other people, dated by their own creation time; a post's topics are its question's tags. Topic
scores at T come from `scoring.engine.topics.topic_scores` run on the pre-T data with the tags as
the topic space (every tag its own topic, so every tag has a leaderboard): comments, answers and
accepted answers are interactions weighted by the score's pair weights; up-votes are anonymous
reactions with the neutral weight.

a. Topic leaderboards: per tag with >= 10 people who posted in it before T and >= 3 of them
   receiving reactions after T on their posts in it, Spearman rho between topic score at T and
   those reactions; mean over tags, bootstrap 95% interval over tags.
b. Top topics: people who posted before T and answer after T: precision@3 of their three best
   topics (the engine's own ranking, `rank`) against the tags of the questions they answer
   after T, and each method's paired difference to the global prior.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import lzma
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from scoring.engine.evaluation import iso, spearman
from scoring.engine.registry import LATEST, get_version
from scoring.engine.score import score_window
from scoring.engine.topics import Evidence, Ontology, PostTopics, TopicParams, topic_scores
from scoring.engine.types import Interactions, Kind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DEFAULT_PARAMS = TopicParams()
LEADERBOARDS = "stackexchange-quantumcomputing topic leaderboards"
TOP_TOPICS = "stackexchange-quantumcomputing top topics"


@dataclasses.dataclass
class Dump:
    """The parts of a Stack Exchange dump the evaluation reads."""

    post_owner: dict[str, str]
    post_time: dict[str, float]
    post_type: dict[str, str]
    post_tags: dict[str, tuple[str, ...]]  # the question's tags, for answers too
    parent: dict[str, str]
    accepted: dict[str, str]  # question -> accepted answer id
    comments: list[tuple[str, str, float]]  # (post, commenter, time)
    upvotes: list[tuple[str, float]]  # (post, time)
    accept_votes: list[tuple[str, float]]  # (answer post, time)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    opener = lzma.open if path.suffix == ".xz" else open
    with opener(path, "rb") as handle:
        for _event, elem in ET.iterparse(handle):
            if elem.tag == "row":
                yield dict(elem.attrib)
            elem.clear()


def _time(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def _table(folder: Path, name: str) -> Path:
    for candidate in (folder / f"{name}.xml.xz", folder / f"{name}.xml"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{folder} has no {name}.xml(.xz)")


def read_dump(folder: Path) -> Dump:
    """Posts, comments and votes of a dump folder (tables as .xml or .xml.xz)."""
    d = Dump({}, {}, {}, {}, {}, {}, [], [], [])
    for row in _rows(_table(folder, "Posts")):
        kind, owner = row.get("PostTypeId"), row.get("OwnerUserId")
        if kind not in ("1", "2") or "Id" not in row:
            continue
        pid = row["Id"]
        d.post_type[pid] = kind
        d.post_time[pid] = _time(row["CreationDate"])
        if owner:
            d.post_owner[pid] = owner
        if kind == "1":
            tags = row.get("Tags", "").strip("<>").split("><")
            d.post_tags[pid] = tuple(t for t in tags if t)
            if row.get("AcceptedAnswerId"):
                d.accepted[pid] = row["AcceptedAnswerId"]
        elif row.get("ParentId"):
            d.parent[pid] = row["ParentId"]
    for pid, q in d.parent.items():
        d.post_tags[pid] = d.post_tags.get(q, ())
    for row in _rows(_table(folder, "Comments")):
        if row.get("UserId") and row.get("PostId") in d.post_type:
            d.comments.append((row["PostId"], row["UserId"], _time(row["CreationDate"])))
    for row in _rows(_table(folder, "Votes")):
        if row.get("PostId") not in d.post_type:
            continue
        if row.get("VoteTypeId") == "2":
            d.upvotes.append((row["PostId"], _time(row["CreationDate"])))
        elif row.get("VoteTypeId") == "1":
            d.accept_votes.append((row["PostId"], _time(row["CreationDate"])))
    return d


def cut_time(d: Dump) -> float:
    """The median creation time of answers that have an owner."""
    times = sorted(t for p, t in d.post_time.items() if d.post_type[p] == "2" and p in d.post_owner)
    return float(np.median(times))


@dataclasses.dataclass
class Prepared:
    """Pre-T facts per person and tag, and post-T targets."""

    people: list[str]
    tags: list[str]
    posts_before: dict[tuple[str, str], int]  # (person, tag) -> posts before T
    reactions_before: dict[tuple[str, str], float]
    all_reactions_before: dict[str, float]
    reactions_after: dict[tuple[str, str], float]
    answers_after_tags: dict[str, set[str]]  # person -> tags of questions they answer after T
    posted_before: set[str]


def reactions(d: Dump) -> list[tuple[str, str, float]]:
    """(post, reactor or "" for anonymous, time): up-votes and comments by other people."""
    out = [(p, "", t) for p, t in d.upvotes]
    out += [(p, u, t) for p, u, t in d.comments if d.post_owner.get(p) != u]
    return out


def prepare(d: Dump, cut: float) -> Prepared:
    """Counts the baselines and targets need."""
    posts_before: Counter[tuple[str, str]] = Counter()
    posted_before: set[str] = set()
    for p, owner in d.post_owner.items():
        if d.post_time[p] < cut:
            posted_before.add(owner)
            for tag in d.post_tags.get(p, ()):
                posts_before[(owner, tag)] += 1
    before: Counter[tuple[str, str]] = Counter()
    all_before: Counter[str] = Counter()
    after: Counter[tuple[str, str]] = Counter()
    for p, _who, t in reactions(d):
        author = d.post_owner.get(p)
        if author is None:
            continue
        target = before if t < cut else after
        if t < cut:
            all_before[author] += 1
        for tag in d.post_tags.get(p, ()):
            target[(author, tag)] += 1
    answered: defaultdict[str, set[str]] = defaultdict(set)
    for p, q in d.parent.items():
        answerer = d.post_owner.get(p)
        if answerer and d.post_time[p] >= cut:
            answered[answerer] |= set(d.post_tags.get(q, ()))
    people = sorted({o for o, _ in posts_before} | set(all_before))
    tags = sorted({t for _, t in posts_before})
    return Prepared(
        people=people,
        tags=tags,
        posts_before=dict(posts_before),
        reactions_before=dict(before),
        all_reactions_before=dict(all_before),
        reactions_after=dict(after),
        answers_after_tags=dict(answered),
        posted_before=posted_before,
    )


def topic_score_table(
    d: Dump, cut: float, params: TopicParams = DEFAULT_PARAMS, *, by: str = "raw"
) -> dict[tuple[str, str], float]:
    """(person, tag) -> topic score at T, from the engine on pre-T data (tags as topics).

    `by`: "raw" (the influence the leaderboards order by), "score" (1-100), or "rank" (the
    person's own order of their topics, as minus the rank: higher is better)."""
    people: dict[str, int] = {}

    def pid(user: str) -> int:
        return people.setdefault(user, len(people))

    posts = [p for p, t in d.post_time.items() if t < cut and p in d.post_owner]
    post_index = {p: i for i, p in enumerate(posts)}
    author = np.asarray([pid(d.post_owner[p]) for p in posts], dtype=np.int64)
    ptime = np.asarray([d.post_time[p] for p in posts])
    actor: list[int] = []
    receiver: list[int] = []
    kind: list[int] = []
    when: list[float] = []
    post: list[int] = []

    def add(a: str, r: str, k: Kind, t: float, p: str) -> None:
        actor.append(pid(a))
        receiver.append(pid(r))
        kind.append(int(k))
        when.append(t)
        post.append(post_index.get(p, -1))

    for p, u, t in d.comments:
        if t < cut and p in d.post_owner and d.post_owner[p] != u:
            add(u, d.post_owner[p], Kind.COMMENT, t, p)
    for a, q in d.parent.items():
        if a in d.post_owner and q in d.post_owner and d.post_time[a] < cut:
            add(d.post_owner[a], d.post_owner[q], Kind.REPLY, d.post_time[a], q)
    for a, t in d.accept_votes:
        question = d.parent.get(a, "")
        if t < cut and a in d.post_owner and question in d.post_owner:
            add(d.post_owner[question], d.post_owner[a], Kind.LIKE, t, a)
    n = max(len(people), 1)
    inter = Interactions.from_arrays(
        actor=actor,
        receiver=receiver,
        kind=kind,
        time=when,
        post=post,
        network=np.zeros(len(actor), dtype=np.int8),
        n_people=n,
    )
    algo = get_version(LATEST)
    result = score_window(inter, None, as_of=cut, version=algo)
    # anonymous up-votes before T, decayed by their own date
    votes = np.zeros(len(posts))
    for p, t in d.upvotes:
        if t < cut and p in post_index:
            votes[post_index[p]] += np.exp2(-(cut - t) / 86_400.0 / params.half_life_days)
    tags = sorted({t for p in posts for t in d.post_tags.get(p, ())})
    tag_index = {t: i for i, t in enumerate(tags)}
    pt_post = [post_index[p] for p in posts for t in d.post_tags.get(p, ())]
    pt_topic = [tag_index[t] for p in posts for t in d.post_tags.get(p, ())]
    post_topics = PostTopics(
        post=np.asarray(pt_post, dtype=np.int64),
        topic=np.asarray(pt_topic, dtype=np.int64),
        weight=np.ones(len(pt_post)),
        unmapped={},
    )
    flat = Ontology.build(tags, [3] * len(tags), [])
    res = topic_scores(
        n_people=n,
        actor=inter.actor,
        receiver=inter.receiver,
        post=inter.post,
        influence=result.influence
        if isinstance(result.influence, sp.csr_array)
        else sp.csr_array(result.influence),
        evidence=Evidence(
            author=author, time=ptime, anonymous=votes, anonymous_time=np.full(len(posts), cut)
        ),
        post_topics=post_topics,
        ontology=flat,
        as_of=cut,
        params=dataclasses.replace(params, max_topics=10_000),
    )
    name = {i: u for u, i in people.items()}
    values = {"raw": res.raw, "score": res.score, "rank": -res.rank.astype(np.float64)}[by]
    return {
        (name[s], tags[t]): float(v)
        for s, t, v in zip(res.subject.tolist(), res.topic.tolist(), values.tolist(), strict=True)
    }


@dataclasses.dataclass(frozen=True)
class TopicRow:
    """One method's figure on one of the two tables."""

    set: str
    cut: str
    method: str
    value: float
    count: int
    ci95: list[float]
    # for a person's top topics: this method minus the global prior, person by person (paired)
    vs_prior: float | None = None
    vs_prior_ci95: list[float] | None = None

    def as_json(self) -> dict[str, object]:
        """The spec's JSON object for `var/evaluation.json`."""
        metric, unit = ("mean_rho", "topics") if self.set == LEADERBOARDS else ("p_at_3", "users")
        return {
            "set": self.set,
            "cut": self.cut,
            "method": self.method,
            metric: round(self.value, 4),
            unit: self.count,
            "ci95": {metric: self.ci95},
        }


def _mean_ci(values: list[float], n_boot: int, seed: int = 0) -> list[float]:
    arr = np.asarray([v for v in values if not np.isnan(v)])
    if arr.shape[0] < 2 or n_boot <= 0:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = [arr[rng.integers(0, arr.shape[0], arr.shape[0])].mean() for _ in range(n_boot)]
    lo, hi = np.percentile(means, [2.5, 97.5])
    return [round(float(lo), 4), round(float(hi), 4)]


def leaderboards(
    prep: Prepared, scores: dict[tuple[str, str], float], cut_iso: str, n_boot: int
) -> list[TopicRow]:
    """Table a: mean Spearman rho per qualifying tag, for the topic score and each baseline."""
    people_in: defaultdict[str, list[str]] = defaultdict(list)
    for (person, tag), _n in prep.posts_before.items():
        people_in[tag].append(person)
    methods: dict[str, Callable[[str, str], float]] = {
        "topic-score": lambda p, t: scores.get((p, t), 0.0),
        "posts-in-topic": lambda p, t: float(prep.posts_before.get((p, t), 0)),
        "reactions-in-topic": lambda p, t: prep.reactions_before.get((p, t), 0.0),
        "all-reactions": lambda p, t: prep.all_reactions_before.get(p, 0.0),
    }
    rhos: dict[str, list[float]] = {m: [] for m in methods}
    for tag in sorted(people_in):
        who = sorted(people_in[tag])
        target = np.asarray([prep.reactions_after.get((p, tag), 0.0) for p in who])
        if len(who) < 10 or int((target > 0).sum()) < 3:
            continue
        for m, f in methods.items():
            rhos[m].append(spearman(np.asarray([f(p, tag) for p in who]), target))
    return [
        TopicRow(
            LEADERBOARDS,
            cut_iso,
            m,
            float(np.nanmean(v)) if v else float("nan"),
            len(v),
            _mean_ci(v, n_boot),
        )
        for m, v in rhos.items()
    ]


def top_topics(
    prep: Prepared, scores: dict[tuple[str, str], float], cut_iso: str, n_boot: int
) -> list[TopicRow]:
    """Table b: precision@3 of people's top-3 topics against the tags they answer after T."""
    who = sorted(p for p in prep.answers_after_tags if p in prep.posted_before)
    global_counts: Counter[str] = Counter()
    for (_p, tag), n in prep.posts_before.items():
        global_counts[tag] += n
    global_top = [t for t, _ in sorted(global_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    by_person: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
    for (p, tag), v in scores.items():
        by_person[p].append((v, tag))
    own: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for (p, tag), n in prep.posts_before.items():
        own[p].append((n, tag))

    def top3(ranked: list[tuple[float, str]]) -> list[str]:
        picked = [t for _, t in sorted(ranked, key=lambda x: (-x[0], x[1]))[:3]]
        # fewer than three: fill from the global prior (every method names three tags)
        return (picked + [t for t in global_top if t not in picked])[:3]

    methods: dict[str, Callable[[str], list[str]]] = {
        "topics": lambda p: top3(by_person.get(p, [])),
        "global-top3": lambda p: global_top,
        "own-past-tags": lambda p: top3([(float(n), t) for n, t in own.get(p, [])]),
    }
    hits = {
        m: [len(set(f(p)) & prep.answers_after_tags[p]) / 3.0 for p in who]
        for m, f in methods.items()
    }
    rows = []
    for m, h in hits.items():
        value = float(np.mean(h)) if h else float("nan")
        diff: float | None = None
        diff_ci: list[float] | None = None
        if m != "global-top3" and h:
            paired = [a - b for a, b in zip(h, hits["global-top3"], strict=True)]
            diff, diff_ci = float(np.mean(paired)), _mean_ci(paired, n_boot)
        rows.append(
            TopicRow(TOP_TOPICS, cut_iso, m, value, len(h), _mean_ci(h, n_boot), diff, diff_ci)
        )
    return rows


def evaluate_topics(
    folder: Path, *, n_boot: int = 1000, params: TopicParams = DEFAULT_PARAMS
) -> list[TopicRow]:
    """Both tables on a Stack Exchange dump folder."""
    d = read_dump(folder)
    cut = cut_time(d)
    prep = prepare(d, cut)
    scores = topic_score_table(d, cut, params)
    # a person's top topics are the engine's own ranking of them (shrunk towards the prior)
    ranks = topic_score_table(d, cut, params, by="rank")
    cut_iso = iso(cut)
    return leaderboards(prep, scores, cut_iso, n_boot) + top_topics(prep, ranks, cut_iso, n_boot)


def tag_mass(d: Dump, map_tag: Callable[[str], list[str]]) -> tuple[float, list[tuple[str, str]]]:
    """Share of tag occurrences (on questions) that map to ontology topics, and 10 examples."""
    counts: Counter[str] = Counter()
    for p, tags in d.post_tags.items():
        if d.post_type.get(p) == "1":
            counts.update(tags)
    total = sum(counts.values())
    mapped = 0
    examples: list[tuple[str, str]] = []
    for tag, n in counts.most_common():
        topics = map_tag(tag)
        if topics:
            mapped += n
            if len(examples) < 10:
                examples.append((tag, ", ".join(topics)))
    return (mapped / total if total else 0.0), examples


def format_topic_tables(rows: list[TopicRow]) -> str:
    """The two tables as text."""
    lines = []
    for name, metric in ((LEADERBOARDS, "mean rho"), (TOP_TOPICS, "P@3")):
        chosen = [r for r in rows if r.set == name]
        if not chosen:
            continue
        lines.append(f"{name} (cut {chosen[0].cut}, n = {chosen[0].count})")
        lines.append(f"  {'method':<20} {metric:>9}  95% interval")
        for r in chosen:
            lines.append(f"  {r.method:<20} {r.value:9.3f}  [{r.ci95[0]:.3f}, {r.ci95[1]:.3f}]")
        for r in chosen:
            if r.vs_prior is not None and r.vs_prior_ci95 is not None:
                lo, hi = r.vs_prior_ci95
                lines.append(
                    f"  {r.method} minus global-top3, person by person: {r.vs_prior:+.3f} "
                    f"[{lo:+.3f}, {hi:+.3f}]"
                )
    return "\n".join(lines)
