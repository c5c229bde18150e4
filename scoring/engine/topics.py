"""Topic inference and topic scores (pure Python + numpy, no Django).

1. **Mapping** (`TopicMatcher`): a post's tags and hashtags map to ontology topics through an
   Aho-Corasick automaton over the normalised aliases (`topic_names`). A tag that *is* an alias
   maps with weight 1; aliases found as whole words inside a longer tag ("quantum-algorithms" ->
   Algorithms) map with `partial_weight`, longest first, never overlapping. Ambiguity rules: an
   alias shared by several topics, a short alias (<= 3 characters) or a stop-listed common word
   needs *corroboration*: another tag of the same post maps firmly to a topic of the same
   category; else it is dropped. Tags that map to nothing are counted (kept as evidence for a
   later ontology), not lost.
2. **Topic influence**: a reaction on a post about topic t counts for its author in t, weighted
   like the score weights it: the actor->receiver pair's weight from the engine's influence
   matrix (selectivity, decay, back-scratching discount) split over the pair's interactions,
   times the reactor's quality (who reacts matters). Anonymous reactions (Stack Exchange
   up-votes) count with `neutral_weight`, decayed by age. +K on a topic adds a bounded amount
   (`plus_k_weight`, at most `plus_k_cap`), discounted inside closed circles of givers, and only
   where the person has reactions in the topic or added it.
3. **Propagation**: influence flows to parent topics with `damping` per level (a DAG walk that
   stops at the ontology's depth).
4. **Calibration per topic**: raw = log1p(influence); the topic's 90th percentile of raw maps to
   90, so 90 means "top of that topic" in a small topic and a big one alike.
5. **A subject's own order of their topics** (`rank`, what profiles show first) is shrunk towards
   the population: the subject's share of influence in the topic, worth as many posts as they
   have, plus the population's share of posts about it, worth `alpha` posts, where `alpha` is
   estimated from the run's data by the method of moments (`shrink`). Thin evidence leans on
   what people at large post about, rich evidence on its own; only topics with evidence (or
   added) are listed, so the prior orders them and never adds one.
"""

from __future__ import annotations

import array
import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

import ahocorasick
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from scoring.engine.topic_names import normalise

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DAY = 86_400.0

# Common words that are also topic names: they map only with corroboration.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "with",
        "at",
        "by",
        "from",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "as",
        "or",
        "not",
        "new",
        "help",
        "question",
        "questions",
        "answer",
        "answers",
        "issue",
        "problem",
        "error",
        "general",
        "other",
        "misc",
        "meta",
        "discussion",
        "best",
        "good",
        "love",
        "life",
        "fun",
        "home",
        "time",
        "news",
        "today",
        "people",
        "world",
        "free",
        "top",
        "community",
        "data",
        "support",
        "update",
        "test",
        "tests",
        "example",
        "examples",
        "history",
        "reference",
        "theory",
        "definition",
        "terminology",
        "notation",
    ]
)
SHORT = 3  # aliases this short (in characters) need corroboration


@dataclasses.dataclass(frozen=True)
class Ontology:
    """The topic index space: ids, categories (depth-1 ancestor index or -1) and parent links."""

    ids: tuple[str, ...]
    category: IntArray
    depth: IntArray
    parent_child: tuple[IntArray, IntArray]  # (parent index, child index) per edge

    @property
    def n(self) -> int:
        """How many topics."""
        return len(self.ids)

    @classmethod
    def build(
        cls, ids: Sequence[str], depth: Sequence[int], edges: Iterable[tuple[str, str]]
    ) -> Ontology:
        """From topic ids, their depths and (parent id, child id) edges."""
        index = {t: i for i, t in enumerate(ids)}
        pairs = [(index[p], index[c]) for p, c in edges if p in index and c in index]
        parent = np.asarray([p for p, _ in pairs], dtype=np.int64)
        child = np.asarray([c for _, c in pairs], dtype=np.int64)
        d = np.asarray(depth, dtype=np.int64)
        category = np.full(len(ids), -1, dtype=np.int64)
        category[d == 1] = np.flatnonzero(d == 1)
        # walk down level by level: a child's category is its shallowest parent's
        for level in range(2, int(d.max(initial=0)) + 1):
            sel = (d[child] == level) & (d[parent] == level - 1)
            category[child[sel]] = category[parent[sel]]
        return cls(ids=tuple(ids), category=category, depth=d, parent_child=(parent, child))


@dataclasses.dataclass(frozen=True)
class PostTopics:
    """Which posts are about which topics: one row per (post, topic) with a match weight."""

    post: IntArray
    topic: IntArray
    weight: FloatArray
    unmapped: dict[str, int]  # tag -> posts carrying it that mapped to nothing

    def __len__(self) -> int:
        return int(self.post.shape[0])


@dataclasses.dataclass(frozen=True)
class _Candidate:
    topic: int
    weight: float
    weak: bool  # needs corroboration


class TopicMatcher:
    """Tags -> topics through an Aho-Corasick automaton over the ontology's normalised aliases."""

    def __init__(
        self,
        aliases: Mapping[str, Sequence[int]],
        ontology: Ontology,
        *,
        stop_words: frozenset[str] = STOP_WORDS,
        partial_weight: float = 0.5,
    ) -> None:
        self.ontology = ontology
        self.partial_weight = partial_weight
        self.stop_words = stop_words
        self.aliases = {a: tuple(sorted(set(t))) for a, t in aliases.items() if a}
        self._automaton = ahocorasick.Automaton()
        for alias, topics in self.aliases.items():
            self._automaton.add_word(f" {alias} ", (alias, topics))
        if self.aliases:
            self._automaton.make_automaton()
        self._cache: dict[str, tuple[_Candidate, ...]] = {}

    def _weak(self, alias: str, topics: tuple[int, ...]) -> bool:
        return len(topics) > 1 or len(alias) <= SHORT or alias in self.stop_words

    def candidates(self, tag: str) -> tuple[_Candidate, ...]:
        """The topics one tag may mean, with weights and whether each needs corroboration."""
        hit = self._cache.get(tag)
        if hit is not None:
            return hit
        norm = normalise(tag.lstrip("#"))
        found: list[_Candidate] = []
        exact = self.aliases.get(norm)
        if exact is not None:
            found = [_Candidate(t, 1.0, self._weak(norm, exact)) for t in exact]
        elif norm and self.aliases:
            # whole-word matches inside the tag, longest first, not overlapping
            spans: list[tuple[int, int, str, tuple[int, ...]]] = []
            for end, (alias, topics) in self._automaton.iter(f" {norm} "):
                spans.append((end - len(alias) - 1, end, alias, topics))
            taken: list[tuple[int, int]] = []
            for start, end, alias, topics in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
                if any(start < e - 1 and s < end - 1 for s, e in taken):
                    continue
                taken.append((start, end))
                weak = self._weak(alias, topics)
                found += [_Candidate(t, self.partial_weight, weak) for t in topics]
        result = tuple(found)
        self._cache[tag] = result
        return result

    def match(self, post_tags: Iterable[Sequence[str]]) -> PostTopics:
        """Map every post's tags (index = dense post index) to topics, applying the rules."""
        codes = TagCodes.build()
        for tags in post_tags:
            codes.add_post(tags)
        return self.match_codes(codes.freeze())

    def match_codes(self, codes: CodedTags) -> PostTopics:
        """Map integer-coded tags to topics: each distinct tag is looked up once, and the
        (post, tag) pairs expand to (post, topic) rows with numpy (no step per post in Python)."""
        tags = codes.vocabulary
        lens = np.diff(codes.indptr)
        post_of = np.repeat(np.arange(lens.shape[0], dtype=np.int64), lens)
        tag_of = codes.codes.astype(np.int64)
        cands = [self.candidates(t) for t in tags]
        indptr = np.zeros(len(tags) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in cands], out=indptr[1:])
        c_topic = np.asarray([c.topic for cs in cands for c in cs], dtype=np.int64)
        c_weight = np.asarray([c.weight for cs in cands for c in cs], dtype=np.float64)
        c_weak = np.asarray([c.weak for cs in cands for c in cs], dtype=bool)
        unmapped_tags = np.flatnonzero(np.diff(indptr) == 0)
        unmapped: dict[str, int] = {}
        if unmapped_tags.shape[0] and tag_of.shape[0]:
            counts = np.bincount(tag_of, minlength=len(tags))
            unmapped = {tags[t]: int(counts[t]) for t in unmapped_tags.tolist() if counts[t]}
        which, slots = _expand(indptr, tag_of)
        del tag_of
        post = post_of[which]
        del post_of, which
        topic, weight, weak = c_topic[slots], c_weight[slots], c_weak[slots]
        keep = corroborated(post, topic, weak, self.ontology.category)
        post, topic, weight = post[keep], topic[keep], weight[keep]
        # one row per (post, topic): the strongest way the post names it
        if post.shape[0]:
            order = np.lexsort((-weight, topic, post))
            post, topic, weight = post[order], topic[order], weight[order]
            first = np.r_[True, (post[1:] != post[:-1]) | (topic[1:] != topic[:-1])]
            post, topic, weight = post[first], topic[first], weight[first]
        return PostTopics(post=post, topic=topic, weight=weight, unmapped=unmapped)


@dataclasses.dataclass(frozen=True)
class CodedTags:
    """Posts' tags as integers: post i's tags are `vocabulary[codes[indptr[i]:indptr[i + 1]]]`."""

    indptr: IntArray
    codes: npt.NDArray[np.int32]
    vocabulary: list[str]

    def __len__(self) -> int:
        return int(self.indptr.shape[0] - 1)


@dataclasses.dataclass
class TagCodes:
    """Builds `CodedTags` post by post, streaming: no per-post list is kept, only the codes."""

    ids: dict[str, int]
    codes: array.array[int]
    lengths: array.array[int]

    @classmethod
    def build(cls) -> TagCodes:
        """An empty builder."""
        return cls({}, array.array("i"), array.array("q"))

    def add_post(self, tags: Iterable[str]) -> None:
        """The next post's tags (posts are numbered in the order they are added)."""
        ids, before = self.ids, len(self.codes)
        self.codes.extend(ids.setdefault(t, len(ids)) for t in tags)
        self.lengths.append(len(self.codes) - before)

    def freeze(self) -> CodedTags:
        """The coded tags (the builder is left empty)."""
        indptr = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.lengths, dtype=np.int64), out=indptr[1:])
        codes = np.frombuffer(self.codes, dtype=np.int32).copy()
        frozen = CodedTags(indptr=indptr, codes=codes, vocabulary=list(self.ids))
        self.ids, self.codes, self.lengths = {}, array.array("i"), array.array("q")
        return frozen


def corroborated(post: IntArray, topic: IntArray, weak: BoolArray, category: IntArray) -> BoolArray:
    """Firm matches stay; a weak one stays if a firm match of its post shares its category."""
    keep = ~weak
    if not weak.any():
        return keep
    cat = category[topic]
    n_cat = int(category.max(initial=0)) + 2
    firm_keys = _unique_sorted(post[~weak] * n_cat + (cat[~weak] + 1))
    weak_keys = post[weak] * n_cat + (cat[weak] + 1)
    pos = np.minimum(np.searchsorted(firm_keys, weak_keys), max(firm_keys.shape[0] - 1, 0))
    ok = (
        (firm_keys.shape[0] > 0) & (firm_keys[pos] == weak_keys) & (cat[weak] >= 0)
        if firm_keys.shape[0]
        else np.zeros(weak_keys.shape[0], dtype=bool)
    )
    keep[np.flatnonzero(weak)[ok]] = True
    return keep


@dataclasses.dataclass(frozen=True)
class TopicParams:
    """The constants of topic inference (versioned with the algorithm)."""

    damping: float = 0.5
    neutral_weight: float = 0.5
    half_life_days: float = 30.0
    plus_k_weight: float = 0.5
    plus_k_cap: float = 3.0
    ring_weight: float = 0.2
    network_weight: float = 0.1
    network_scale: float = 2.0
    selective_limit: float = 200.0
    added_score: float = 10.0
    max_topics: int = 10
    post_weight: float = 0.15


@dataclasses.dataclass(frozen=True)
class Evidence:
    """Per-post facts the scores are built from (index = dense post index)."""

    author: IntArray
    time: FloatArray
    anonymous: FloatArray | None = None  # anonymous reactions (up-votes) per post
    anonymous_time: FloatArray | None = None  # when they happened (default: the post's time)


@dataclasses.dataclass(frozen=True)
class TopicResult:
    """Topic scores in long form: one row per (subject, topic), best first per subject."""

    subject: IntArray
    topic: IntArray
    raw: FloatArray
    score: FloatArray
    rank: IntArray
    posts: IntArray
    reactions: IntArray
    reactors: IntArray
    plus_k: IntArray
    added: BoolArray
    inherited: BoolArray
    evidence: EvidencePosts  # up to 3 post indices per row, most reacted first
    scale: FloatArray  # per topic: the k of 1 + 99 (1 - exp(-k raw))
    prior_weight: float = 0.0  # the population prior's weight in ranking, in posts (see `shrink`)

    def __len__(self) -> int:
        return int(self.subject.shape[0])

    def breadth_of(self, subject: int) -> int:
        """How many topics a subject has (for the style's Broad/Focused axis)."""
        return int((self.subject == subject).sum())


def _sparse(
    rows: IntArray, cols: IntArray, vals: FloatArray, shape: tuple[int, int]
) -> sp.csr_array:
    m = sp.csr_array((vals, (rows, cols)), shape=shape, dtype=np.float64)
    m.sum_duplicates()
    return m


def ring_weights(giver: IntArray, receiver: IntArray, n: int, ring_weight: float) -> FloatArray:
    """Per +K: 1, or `ring_weight` when giver and receiver are in one closed circle of givers."""
    if giver.shape[0] == 0:
        return np.zeros(0)
    graph = sp.csr_array(
        (np.ones(giver.shape[0]), (giver, receiver)), shape=(n, n), dtype=np.float64
    )
    _, label = connected_components(graph, directed=True, connection="strong")
    return np.where(label[giver] == label[receiver], ring_weight, 1.0)


def topic_scores(
    *,
    n_people: int,
    actor: npt.NDArray[np.integer],
    receiver: npt.NDArray[np.integer],
    post: IntArray,
    influence: sp.csr_array,
    evidence: Evidence,
    post_topics: PostTopics,
    ontology: Ontology,
    as_of: float,
    params: TopicParams = TopicParams(),
    plus_k: tuple[IntArray, IntArray, IntArray] | None = None,  # (giver, receiver, topic)
    added: tuple[IntArray, IntArray] | None = None,  # (person, topic)
    hidden: tuple[IntArray, IntArray] | None = None,  # (person, topic)
    scale: FloatArray | None = None,  # a stored per-topic calibration, else calibrated here
    groups: Sequence[Sequence[int]] = (),  # extra subjects: people combining several indices
) -> TopicResult:
    """Every subject's topics with 1-100 scores per topic and their evidence (see module doc)."""
    n, t = n_people, ontology.n
    n_posts = evidence.author.shape[0]
    p_post, p_topic, p_weight = post_topics.post, post_topics.topic, post_topics.weight
    in_window = (p_post < n_posts) & (
        evidence.time[np.minimum(p_post, max(n_posts - 1, 0))] < as_of
    )
    p_post, p_topic, p_weight = p_post[in_window], p_topic[in_window], p_weight[in_window]
    # post -> topics as a (posts x topics) matrix of match weights
    pt = _sparse(p_post, p_topic, p_weight, (max(n_posts, 1), t))

    # reactions: interactions on known posts by someone other than the author
    a, r = np.asarray(actor), np.asarray(receiver)  # int32 in a scoring run: kept so
    rp = np.asarray(post, dtype=np.int64)
    on_post = (rp >= 0) & (rp < n_posts) & (a != r)
    if not on_post.all():
        a, r, rp = a[on_post], r[on_post], rp[on_post]
    del on_post
    inf = influence.tocsr()
    inf.sort_indices()
    # who reacts matters (a bounded quality of the reactor's own reach)
    reach = np.asarray(inf.sum(axis=0)).ravel()
    h = np.log1p(reach)
    quality = 1.0 + params.network_weight * h / (h + params.network_scale)
    # the pair's weight (selectivity, decay, back-scratching) split over its interactions:
    # reactions sorted by (pair, post), each pair's weight looked up once
    key = a.astype(np.int64)
    key *= n
    key += r
    pair_key, pair_post = _sort_pairs(key, rp, n * n, n_posts)
    del key
    starts = np.flatnonzero(np.r_[True, pair_key[1:] != pair_key[:-1]]) if rp.shape[0] else rp
    count = np.diff(np.r_[starts, pair_key.shape[0]])
    uniq = pair_key[starts]
    del pair_key, starts
    w_pair = _pair_weights(inf, uniq, n) / count * quality[uniq // n]
    del uniq

    # reactions per (post) weighted, and counted, then spread over the post's topics
    post_w = np.bincount(pair_post, weights=np.repeat(w_pair, count), minlength=n_posts)
    del pair_post, w_pair, count
    post_n = np.bincount(rp, minlength=n_posts).astype(np.float64)
    if evidence.anonymous is not None:
        when = evidence.anonymous_time if evidence.anonymous_time is not None else evidence.time
        age = np.maximum(as_of - when, 0.0) / DAY
        decay = np.exp2(-age / params.half_life_days)
        post_w = post_w + params.neutral_weight * evidence.anonymous * decay
        post_n = post_n + evidence.anonymous
    author = evidence.author.astype(np.int64)
    # one (author, topic) pair id per (post, topic) row: the rows sum into (people x topics)
    row_post = np.repeat(np.arange(pt.shape[0], dtype=np.int64), np.diff(pt.indptr))
    row_topic = pt.indices.astype(np.int64)
    pairs, pair_of = _unique_inverse(author[row_post] * t + row_topic, n * t)
    del row_topic
    own_reach = _pair_matrix(pairs, np.bincount(pair_of, pt.data * post_w[row_post]), n, t)
    reactions = _pair_matrix(pairs, np.bincount(pair_of, post_n[row_post]), n, t)
    posts_about = _pair_matrix(pairs, np.bincount(pair_of).astype(np.float64), n, t)
    # distinct reactors per (author, topic)
    reactor_topic = _distinct_reactors(a, rp, row_post, pair_of, pairs, post_n, n, t)
    del a, r, rp, row_post, pair_of, pairs

    # +K: bounded, ring-discounted, only where there is evidence or the person added the topic
    pk_count = sp.csr_array((n, t))
    own = own_reach
    if plus_k is not None and plus_k[0].shape[0]:
        giver, pk_recv, pk_topic = (x.astype(np.int64) for x in plus_k)
        size = max(n, int(giver.max()) + 1, int(pk_recv.max()) + 1)
        weight = ring_weights(giver, pk_recv, size, params.ring_weight)
        pk = _sparse(pk_recv, pk_topic, weight, (n, t))
        pk_count = _sparse(pk_recv, pk_topic, np.ones(giver.shape[0]), (n, t))
        bonus = pk.tocsr()
        bonus.data = params.plus_k_weight * np.minimum(bonus.data, params.plus_k_cap)
        # +K raises confidence where reactions are the evidence (bounded, and at most the
        # reach itself below 1): +K alone never makes a topic beyond "added"
        own = (own + bonus.multiply(_cap(own_reach))).tocsr()

    total = _propagate(own, ontology, params.damping)
    inherited = (total > 0).astype(np.int8) - (own > 0).astype(np.int8)
    inherited = inherited.tocsr()
    inherited.eliminate_zeros()

    subjects = _with_groups(total, groups)
    extras = [_with_groups(m, groups) for m in (posts_about, reactions, reactor_topic, pk_count)]
    inherited_all = _with_groups(inherited.astype(np.float64), groups)
    # ranking: each subject's evidence shrunk towards the population's topics (see `shrink`)
    alpha, prior = shrink(posts_about, ontology, params.damping)
    evidence_n = np.asarray(_with_groups(posts_about, groups).sum(axis=1)).ravel()
    evidence_total = np.asarray(subjects.sum(axis=1)).ravel()
    del own, own_reach, total, inherited, posts_about, reactions, reactor_topic, pk_count
    n_subj = subjects.shape[0]
    added_m = sp.csr_array((n_subj, t))
    if added is not None and added[0].shape[0]:
        added_m = _sparse(added[0], added[1], np.ones(added[0].shape[0]), (n_subj, t))
    hidden_m = sp.csr_array((n_subj, t))
    if hidden is not None and hidden[0].shape[0]:
        hidden_m = _sparse(hidden[0], hidden[1], np.ones(hidden[0].shape[0]), (n_subj, t))

    coo = subjects.tocoo()
    subj, top, value = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    del coo
    # added topics without evidence: shown as added, with a low fixed score
    add = added_m.tocoo()
    lone = np.asarray(subjects[add.row, add.col]).ravel() <= 0 if add.nnz else np.zeros(0, bool)
    del subjects
    if lone.any():
        subj = np.concatenate([subj, add.row[lone].astype(np.int64)])
        top = np.concatenate([top, add.col[lone].astype(np.int64)])
        value = np.concatenate([value, np.zeros(int(lone.sum()))])
    if hidden_m.nnz and subj.shape[0]:
        keep = np.asarray(hidden_m[subj, top]).ravel() <= 0
        subj, top, value = subj[keep], top[keep], value[keep]

    raw = np.log1p(value)
    posts_v = _gather(extras[0], subj, top)
    has_value = value > 0
    raw += params.post_weight * np.log1p(posts_v) * has_value
    k = scale if scale is not None else calibrate_topics(top, raw, t)
    score = np.clip(1.0 + 99.0 * (1.0 - np.exp(-k[top] * raw)), 1.0, 100.0)
    is_added = _gather(added_m, subj, top) > 0
    score = np.where(has_value, score, np.where(is_added, params.added_score, 1.0))

    # rank per subject by evidence, not by the per-topic calibrated score (the calibration puts
    # the top of a niche topic at 90 too; on Stack Exchange ranking by it halved precision@3 of
    # people's top topics: 0.25 against 0.36): the subject's share of influence in the topic,
    # worth as many posts as the subject has, blended with the population prior worth `alpha`
    # posts. Thin evidence leans on what people at large post about, rich evidence on its own.
    # Ties: raw influence, then the score, then the topic.
    held = evidence_total[subj]
    share = np.divide(value, held, out=np.zeros(subj.shape[0]), where=held > 0)
    blend = np.where(has_value, evidence_n[subj] * share + alpha * prior[top], 0.0)
    del held, share, has_value, value
    order = _grouped_desc(subj, blend, -raw, -score, top)
    del blend
    ordered = subj[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if subj.shape[0] else subj
    lengths = np.diff(np.r_[starts, subj.shape[0]])
    rank = np.arange(subj.shape[0]) - np.repeat(starts, lengths) + 1
    del ordered, starts, lengths
    sel = rank <= params.max_topics
    # only the rows kept are gathered (a subject's topics beyond its top ones are dropped here)
    kept = order[sel]
    rank = rank[sel]
    del order, sel
    subj, top, raw, score = subj[kept], top[kept], raw[kept], score[kept]
    is_added, posts_v = is_added[kept], posts_v[kept]
    return TopicResult(
        subject=subj,
        topic=top,
        raw=raw,
        score=score,
        rank=rank.astype(np.int64),
        posts=posts_v.astype(np.int64),
        reactions=np.rint(_gather(extras[1], subj, top)).astype(np.int64),
        reactors=np.rint(_gather(extras[2], subj, top)).astype(np.int64),
        plus_k=np.rint(_gather(extras[3], subj, top)).astype(np.int64),
        added=is_added,
        inherited=(_gather(inherited_all, subj, top) > 0) & (posts_v == 0),
        evidence=_evidence_posts(subj, top, author, pt, post_n, groups, n),
        scale=k,
        prior_weight=alpha,
    )


def shrink(
    posts_about: sp.csr_array, ontology: Ontology, damping: float
) -> tuple[float, FloatArray]:
    """The population prior over topics, and how many posts it is worth (alpha).

    A person's topic mix is read as a Dirichlet-multinomial draw around the population's mix:
    their best estimate is (own evidence + alpha x prior) / (own posts + alpha), so thin evidence
    leans on what people at large post about and rich evidence on its own (shrinkage). The prior
    is the share of posts about each topic, propagated to parent topics like influence. alpha is
    estimated from the run's own data, never set by hand: by the method of moments, the
    over-dispersion rho of people's post counts per topic around the population's mix
    (Var = N pi (1 - pi) (1 + (N - 1) rho)) gives alpha = 1 / rho - 1. People who all post like
    the population (rho near 0) make alpha large; people who differ a lot make it small. With
    no one posting twice there is nothing to estimate from, and alpha is 0 (own evidence only).
    """
    counts = posts_about.tocsr()
    t = counts.shape[1]
    per_topic = np.asarray(counts.sum(axis=0)).ravel()
    total = float(per_topic.sum())
    if total <= 0:
        return 0.0, np.zeros(t)
    pi = per_topic / total
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    q = 1.0 - float((pi * pi).sum())
    spread = float((counts.data**2).sum()) - 2.0 * float(n_i @ (counts @ pi))
    spread += float((n_i * n_i).sum()) * float((pi * pi).sum())
    den = float((n_i * (n_i - 1.0)).sum()) * q
    if den <= 0:
        alpha = 0.0
    else:
        rho = min(max((spread - float(n_i.sum()) * q) / den, 1e-6), 1.0)
        alpha = 1.0 / rho - 1.0
    # the prior on the same footing as the ranked influence: propagated to parents, normalised
    parent, child = ontology.parent_child
    prior = per_topic.copy()
    if parent.shape[0] and damping > 0:
        up = sp.csr_array(
            (np.full(parent.shape[0], damping), (child, parent)), shape=(ontology.n, ontology.n)
        )
        level = per_topic
        for _ in range(int(ontology.depth.max(initial=0)) + 1):
            level = up.T @ level
            if not level.any():
                break
            prior = prior + level
    return alpha, prior / prior.sum()


def _grouped_desc(group: IntArray, value: FloatArray, *ties: npt.NDArray[np.generic]) -> IntArray:
    """The order of `np.lexsort((*reversed(ties), -value, group))`: by group, value descending,
    then the tie keys ascending (rows must differ in some key). Sorting by value, then by group
    stably, then only the runs that tie on both by the rest, is several times faster than
    np.lexsort over all the keys."""
    order = np.argsort(-value)
    order = order[np.argsort(group[order], kind="stable")]
    if not ties or order.shape[0] < 2:
        return order
    g, v = group[order], value[order]
    same = (g[1:] == g[:-1]) & (v[1:] == v[:-1])
    if same.any():
        # the tied runs, in place: sort their rows by the tie keys (least significant first,
        # stably), then stably by run (runs are contiguous and already in order)
        pos = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
        sub = order[pos]
        run = np.cumsum(np.r_[True, ~same][pos])
        local = np.arange(sub.shape[0])
        for key in reversed(ties):
            local = local[np.argsort(key[sub[local]], kind="stable")]
        local = local[np.argsort(run[local], kind="stable")]
        order[pos] = sub[local]
    return order


def _narrow(x: IntArray) -> npt.NDArray[np.integer]:
    """Non-negative small integers as uint16 when they fit (numpy radix-sorts those)."""
    return x.astype(np.uint16) if x.shape[0] and int(x.max()) < 2**16 else x


def _pair_weights(inf: sp.csr_array, keys: IntArray, n: int) -> FloatArray:
    """The matrix's value at each (actor * n + receiver) key (0 where absent), looked up row by
    row in the CSR (no copy of the matrix's coordinates)."""
    if keys.shape[0] == 0 or inf.nnz == 0:
        return np.zeros(keys.shape[0])
    return np.asarray(inf[keys // n, keys % n], dtype=np.float64).ravel()


def _pad(x: FloatArray, size: int) -> FloatArray:
    out = np.zeros(size)
    out[: min(size, x.shape[0])] = x[:size]
    return out


def _cap(own: sp.csr_array) -> sp.csr_array:
    """1 where the +K bonus may apply in full relative to the evidence (bounded by own reach)."""
    capped = own.copy().tocsr()
    capped.data = np.minimum(capped.data, 1.0)
    return capped


def _gather(m: sp.csr_array, rows: IntArray, cols: IntArray) -> FloatArray:
    if rows.shape[0] == 0:
        return np.zeros(0)
    return np.asarray(m.tocsr()[rows, cols]).ravel()


def _distinct_reactors(
    actor: IntArray,
    rpost: IntArray,
    row_post: IntArray,
    pair_of: IntArray,
    pairs: IntArray,
    post_n: FloatArray,
    n: int,
    t: int,
) -> sp.csr_array:
    """How many distinct people reacted to each author's posts about each topic.

    A sparse product: ((author, topic) pairs x posts) @ (posts x reactors), both boolean; each
    product row's entries are the pair's distinct reactors. Computed in slices of pairs so the
    product never holds more than about `_PRODUCT_SLICE` entries at once.
    """
    if actor.shape[0] == 0 or pairs.shape[0] == 0:
        return sp.csr_array((n, t))
    n_posts = post_n.shape[0]
    reacted = np.bincount(rpost, minlength=n_posts) > 0
    keep = reacted[row_post]
    by_pair = sp.csr_array(
        (np.ones(int(keep.sum()), dtype=bool), (pair_of[keep], row_post[keep])),
        shape=(pairs.shape[0], n_posts),
    )
    del keep
    # int32 coordinates when they fit: the COO step then copies nothing
    small = np.int32 if max(n_posts, n) < 2**31 else np.int64
    reactors = sp.csr_array(
        (
            np.ones(actor.shape[0], dtype=bool),
            (rpost.astype(small, copy=False), actor.astype(small, copy=False)),
        ),
        shape=(n_posts, n),
    )
    reactors.sum_duplicates()
    # an upper bound of each product row's entries, to cut the slices
    per_post = np.diff(reactors.indptr).astype(np.float64)
    bound = np.cumsum(by_pair @ per_post)
    count = np.zeros(pairs.shape[0], dtype=np.float64)
    start = 0
    while start < pairs.shape[0]:
        base = bound[start - 1] if start else 0.0
        stop = int(np.searchsorted(bound, base + _PRODUCT_SLICE, side="right"))
        stop = min(max(stop, start + 1), pairs.shape[0])
        product = by_pair[start:stop] @ reactors
        count[start:stop] = np.diff(product.indptr)
        del product
        start = stop
    return _pair_matrix(pairs, count, n, t)


_PRODUCT_SLICE = 2_000_000


def _sort_pairs(
    key: IntArray, payload: IntArray, key_bound: int, payload_bound: int
) -> tuple[IntArray, IntArray]:
    """KEY and PAYLOAD ordered by (key, payload); KEY is consumed (it may be reused in place).
    One sort of packed int64 values when they fit (a plain sort is several times faster than an
    argsort, and needs no index array), else an argsort."""
    if key.shape[0] == 0:
        return key, payload
    scale = max(payload_bound, 1)
    if key_bound * scale < 2**62:
        packed = key
        packed *= scale
        packed += payload
        packed.sort()
        second = packed % scale
        packed //= scale
        return packed, second
    order = np.lexsort((payload, key))
    return key[order], payload[order]


def _unique_inverse(keys: IntArray, key_bound: int) -> tuple[IntArray, IntArray]:
    """np.unique(keys, return_inverse=True), by one sort of packed (key, position) values when
    they fit in int64."""
    m = keys.shape[0]
    if m == 0:
        return keys, keys
    if key_bound * m >= 2**62:
        uniq, inverse = np.unique(keys, return_inverse=True)
        return uniq, inverse.astype(np.int64).ravel()
    packed = keys * m + np.arange(m, dtype=np.int64)
    packed.sort()
    sorted_keys = packed // m
    new = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    inverse = np.empty(m, dtype=np.int64)
    inverse[packed % m] = np.cumsum(new) - 1
    return sorted_keys[new], inverse


def _pair_matrix(pairs: IntArray, values: FloatArray, n: int, t: int) -> sp.csr_array:
    """A canonical (n x t) CSR from sorted unique `row * t + col` keys and their values,
    without the zero values (as a sparse product leaves them out)."""
    nz = values != 0
    keys, vals = pairs[nz], values[nz]
    rows = keys // t
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    m = sp.csr_array((vals.astype(np.float64), keys % t, indptr), shape=(n, t))
    m.has_sorted_indices = True
    m.has_canonical_format = True
    return m


def _expand(indptr: npt.NDArray[np.integer], rows: IntArray) -> tuple[IntArray, IntArray]:
    """For each of `rows` (with repeats), its CSR slots: (position in `rows`, slot) pairs."""
    starts = indptr[rows].astype(np.int64)
    lens = (indptr[rows + 1] - indptr[rows]).astype(np.int64)
    total = int(lens.sum())
    which = np.repeat(np.arange(rows.shape[0], dtype=np.int64), lens)
    first = np.cumsum(lens) - lens
    slots = np.arange(total, dtype=np.int64) - np.repeat(first, lens) + np.repeat(starts, lens)
    return which, slots


def _propagate(own: sp.csr_array, ontology: Ontology, damping: float) -> sp.csr_array:
    """Influence flows to parents with `damping` per level (exact on a DAG of finite depth)."""
    parent, child = ontology.parent_child
    if parent.shape[0] == 0 or damping <= 0:
        return own.tocsr()
    up = sp.csr_array(
        (np.full(parent.shape[0], damping), (child, parent)), shape=(ontology.n, ontology.n)
    )
    total = own.tocsr()
    level = own.tocsr()
    for _ in range(int(ontology.depth.max(initial=0)) + 1):
        level = (level @ up).tocsr()
        level.eliminate_zeros()
        if level.nnz == 0:
            break
        total = total + level
    return total.tocsr()


def _with_groups(m: sp.csr_array, groups: Sequence[Sequence[int]]) -> sp.csr_array:
    """The matrix's rows, then one row per group: the sum of its members' rows."""
    if not groups:
        return m.tocsr()
    rows = np.concatenate([np.full(len(g), i) for i, g in enumerate(groups)]).astype(np.int64)
    cols = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
    combine = sp.csr_array((np.ones(rows.shape[0]), (rows, cols)), shape=(len(groups), m.shape[0]))
    return sp.vstack([m.tocsr(), (combine @ m).tocsr()]).tocsr()


def calibrate_topics(topic: IntArray, raw: FloatArray, n_topics: int) -> FloatArray:
    """Per topic, k such that the topic's 90th percentile of raw maps to 90."""
    k = np.full(n_topics, math.log(9.9))  # raw 1 -> 90 where a topic has no evidence yet
    positive = raw > 0
    if not positive.any():
        return k
    t, v = topic[positive], raw[positive]
    order = np.argsort(v)
    order = order[np.argsort(_narrow(t[order]), kind="stable")]
    t, v = t[order], v[order]
    starts = np.flatnonzero(np.r_[True, t[1:] != t[:-1]])
    ends = np.r_[starts[1:], t.shape[0]]
    q_index = starts + np.floor(0.9 * (ends - starts - 1)).astype(np.int64)
    q = v[q_index]
    k[t[starts]] = math.log(9.9) / np.maximum(q, 1e-9)
    return k


class EvidencePosts:
    """Up to 3 post indices per result row, most reacted first (CSR: lists made on demand)."""

    def __init__(self, ptr: IntArray, flat: IntArray) -> None:
        self.ptr = ptr
        self.flat = flat

    def __len__(self) -> int:
        return int(self.ptr.shape[0] - 1)

    def __getitem__(self, i: int) -> list[int]:
        return self.flat[self.ptr[i] : self.ptr[i + 1]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(len(self)):
            yield self[i]


def _top3(key: IntArray, rank_by: FloatArray, item: IntArray) -> tuple[IntArray, IntArray]:
    """The first 3 items of each key by rank_by (descending), as (key, item) columns."""
    order = _grouped_desc(key, rank_by, item)
    key, item = key[order], item[order]
    if key.shape[0] == 0:
        return key, item
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lengths = np.diff(np.r_[starts, key.shape[0]])
    rank = np.arange(key.shape[0]) - np.repeat(starts, lengths)
    sel = rank < 3
    return key[sel], item[sel]


def _evidence_posts(
    subj: IntArray,
    top: IntArray,
    author: IntArray,
    pt: sp.csr_array,
    post_n: FloatArray,
    groups: Sequence[Sequence[int]],
    n: int,
) -> EvidencePosts:
    """Up to 3 posts per row (subject, topic), the most reacted to first (vectorised)."""
    t = pt.shape[1]
    coo = pt.tocoo()
    p, tt = coo.row.astype(np.int64), coo.col.astype(np.int64)
    reacted = post_n[p] > 0
    p, tt = p[reacted], tt[reacted]
    owner = author[p]
    if groups:
        # a person's rows draw on all their accounts' posts
        g_rows = np.concatenate([np.full(len(g), n + i) for i, g in enumerate(groups)])
        g_cols = np.concatenate([np.asarray(g, dtype=np.int64) for g in groups])
        order = np.argsort(g_cols, kind="stable")
        g_cols, g_rows = g_cols[order], g_rows[order].astype(np.int64)
        lo = np.searchsorted(g_cols, owner, side="left")
        hi = np.searchsorted(g_cols, owner, side="right")
        reps = hi - lo
        idx = np.repeat(np.arange(owner.shape[0]), reps)
        first = np.cumsum(reps) - reps
        slots = np.arange(idx.shape[0]) - np.repeat(first, reps) + np.repeat(lo, reps)
        owner = np.concatenate([owner, g_rows[slots]])
        p = np.concatenate([p, p[idx]])
        tt = np.concatenate([tt, tt[idx]])
    want = subj * t + top
    # only the rows asked for (a subject's topics beyond its top ones need no evidence)
    key = owner * t + tt
    wanted = np.sort(want)
    pos = np.minimum(np.searchsorted(wanted, key), max(wanted.shape[0] - 1, 0))
    asked = wanted[pos] == key if wanted.shape[0] else np.zeros(key.shape[0], dtype=bool)
    key, item = _top3(key[asked], post_n[p[asked]], p[asked])
    lo = np.searchsorted(key, want, side="left")
    hi = np.searchsorted(key, want, side="right")
    counts = hi - lo
    ptr = np.zeros(want.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    first = ptr[:-1]
    slots = np.arange(int(ptr[-1])) - np.repeat(first, counts) + np.repeat(lo, counts)
    return EvidencePosts(ptr, item[slots])


def _unique_sorted(keys: IntArray) -> IntArray:
    """np.unique for int64 keys by sorting (faster than hashing for large arrays)."""
    if keys.shape[0] == 0:
        return keys
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def topic_breadth(
    author: IntArray, post_topics: PostTopics, ontology: Ontology, n_posts: int
) -> FloatArray:
    """Per post, its author's topic breadth in [0, 1] (NaN for posts without topics).

    Breadth is the Gini-Simpson diversity of the author's tagged posts over sub topics (the
    depth-2 ancestors; categories are too coarse): 0 when everything is about one sub topic.
    """
    out = np.full(n_posts, np.nan)
    if len(post_topics) == 0:
        return out
    group = _sub_topic(ontology)[post_topics.topic]
    ok = group >= 0
    post, group = post_topics.post[ok], group[ok]
    if post.shape[0] == 0:
        return out
    n_groups = int(group.max()) + 1
    # one count per (post, sub topic), then per (author, sub topic)
    post_group = _unique_sorted(post * n_groups + group)
    who = author[post_group // n_groups]
    pair_keys = who * n_groups + post_group % n_groups
    pair_keys = np.sort(pair_keys)
    starts = np.flatnonzero(np.r_[True, pair_keys[1:] != pair_keys[:-1]])
    counts = np.diff(np.r_[starts, pair_keys.shape[0]]).astype(np.float64)
    pair_who = pair_keys[starts] // n_groups
    a_starts = np.flatnonzero(np.r_[True, pair_who[1:] != pair_who[:-1]])
    a_len = np.diff(np.r_[a_starts, pair_who.shape[0]])
    inverse = np.repeat(np.arange(a_starts.shape[0]), a_len)
    totals = np.bincount(inverse, weights=counts)
    share = counts / totals[inverse]
    simpson = 1.0 - np.bincount(inverse, weights=share * share)
    authors = pair_who[a_starts]
    tagged = _unique_sorted(post)
    pos = np.minimum(np.searchsorted(authors, author[tagged]), authors.shape[0] - 1)
    found = authors[pos] == author[tagged]
    out[tagged[found]] = simpson[pos[found]]
    return out


def _sub_topic(ontology: Ontology) -> IntArray:
    """Each topic's depth-2 ancestor (itself at depth 2; -1 for categories and unreachable)."""
    d = ontology.depth
    sub = np.full(ontology.n, -1, dtype=np.int64)
    sub[d == 2] = np.flatnonzero(d == 2)
    parent, child = ontology.parent_child
    for level in range(3, int(d.max(initial=0)) + 1):
        sel = (d[child] == level) & (d[parent] == level - 1) & (sub[parent] >= 0)
        sub[child[sel]] = sub[parent[sel]]
    return sub
