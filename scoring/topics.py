"""Topics: the Klout topic ontology, people's choices about their topics, and topic scores.

`Topic`, `TopicEdge` and `TopicAlias` are the ontology (`manage.py import_topics`, see
`scoring.ontology`). `TopicScore` is written inside a scoring run, one row per (subject, topic)
with enough evidence, and is immutable like `DailyScore`: pages, perks and the API read the rows
of the latest published run (`TopicScore.objects.current()`), never recompute. `TopicChoice`
holds what a person decided: a hidden topic is never shown nor used; an added one is shown as
added by them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from scoring.engine.topic_names import ENTITY, SUB


class TopicType(models.TextChoices):
    SUB = SUB, "Topic"
    ENTITY = ENTITY, "Named entity"


class TopicQuerySet(models.QuerySet["Topic"]):
    def categories(self) -> TopicQuerySet:
        """The ontology's top-level categories (children of the root), by name."""
        return self.filter(depth=1).order_by("display_name")


class Topic(models.Model):
    """One topic of the Klout ontology; ids are the ontology's (text: some exceed int64)."""

    id = models.CharField(primary_key=True, max_length=24)
    slug = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=128)
    names = models.JSONField(default=dict, blank=True)  # language -> display name (en fr es de)
    wikidata_id = models.CharField(max_length=32, blank=True)
    freebase_id = models.CharField(max_length=32, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)  # 1 = top category; 0 = not reachable
    topic_type = models.CharField(max_length=8, choices=TopicType.choices, default=ENTITY)

    objects: ClassVar[TopicQuerySet] = TopicQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        app_label = "scoring"
        indexes = [models.Index(fields=["depth", "display_name"], name="topic_depth_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_category(self) -> bool:
        """True for the 16 top-level categories ("Technology", "Sports", ...)."""
        return self.depth == 1

    def name_in(self, language: str) -> str:
        """The display name in a language (en, fr, es, de), else the English one."""
        return str(self.names.get(language) or self.display_name)


class TopicEdge(models.Model):
    """A parent -> child link of the ontology (a DAG: a topic may have several parents)."""

    parent = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="child_links")
    child = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="parent_links")

    class Meta:
        app_label = "scoring"
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="uniq_topic_edge"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("child")), name="topic_edge_no_loop"
            ),
        ]
        indexes = [models.Index(fields=["child"], name="topic_edge_child_idx")]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id}"


class TopicAlias(models.Model):
    """A normalised name a topic is recognised by (slug, a language's name, or a variant)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=191)  # scoring.engine.topic_names.normalise form
    source = models.CharField(max_length=16)  # "slug", "name", "variant"

    class Meta:
        app_label = "scoring"
        constraints = [models.UniqueConstraint(fields=["topic", "alias"], name="uniq_topic_alias")]
        indexes = [models.Index(fields=["alias"], name="topic_alias_idx")]

    def __str__(self) -> str:
        return f"{self.alias} -> {self.topic_id}"


class ChoiceState(models.TextChoices):
    HIDDEN = "hidden", "Hidden"
    ADDED = "added", "Added"


class TopicChoice(models.Model):
    """A person hid one of their topics or added one themselves."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_choices"
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=ChoiceState.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "scoring"
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="uniq_topic_choice")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.state} {self.topic_id}"


class ImmutableTopicScoreError(RuntimeError):
    """Someone tried to change a topic score once written."""


def current_run_id() -> models.QuerySet[Any, Any]:
    """The run whose topic scores are shown: the current version's latest published one."""
    from scoring.models import ScoringRun

    return (
        ScoringRun.objects.published()
        .filter(version__is_current=True)
        .order_by("-day")
        .values_list("pk", flat=True)[:1]
    )


class TopicScoreQuerySet(models.QuerySet["TopicScore"]):
    def published(self) -> TopicScoreQuerySet:
        """Topic scores of published runs only."""
        return self.filter(run__status="published")

    def current(self) -> TopicScoreQuerySet:
        """The rows of the latest published run of the current algorithm version."""
        return self.filter(run_id__in=models.Subquery(current_run_id()))

    def shown(self) -> TopicScoreQuerySet:
        """Without topics their person hid (hiding takes effect at once, before the next run)."""
        hidden = TopicChoice.objects.filter(
            user_id=models.OuterRef("user_id"),
            topic_id=models.OuterRef("topic_id"),
            state=ChoiceState.HIDDEN,
        )
        return self.exclude(models.Exists(hidden))

    def for_subject(
        self, *, user_id: int | None = None, account_id: int | None = None
    ) -> TopicScoreQuerySet:
        """One subject's rows (a person or an account scored on its own), best first."""
        subject = Q(user_id=user_id) if user_id is not None else Q(account_id=account_id)
        return self.filter(subject).order_by("rank", "topic_id")

    def update(self, **kwargs: Any) -> int:
        """Refused: topic scores are final once written, like daily scores."""
        raise ImmutableTopicScoreError("TopicScore rows are immutable; compute a new run instead")


class TopicScore(models.Model):
    """A subject's influence about one topic in one run: 1-100 within the topic, with evidence.

    Evidence: `posts` of theirs about the topic drew `reactions` from `reactors` distinct people;
    `plus_k` +K received on it; `added` when the person added the topic themselves.
    """

    run = models.ForeignKey("scoring.ScoringRun", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="topic_scores",
    )
    account = models.ForeignKey(
        "networks.NetworkAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="topic_scores",
    )
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="scores")
    score = models.FloatField()  # 1..100, calibrated per topic
    raw = models.FloatField()
    rank = models.PositiveSmallIntegerField()  # 1 = the subject's top topic in the run
    posts = models.PositiveIntegerField(default=0)
    reactions = models.PositiveIntegerField(default=0)
    reactors = models.PositiveIntegerField(default=0)
    plus_k = models.PositiveIntegerField(default=0)
    added = models.BooleanField(default=False)
    inherited = models.BooleanField(default=False)  # from child topics (propagation), no own post
    evidence = models.JSONField(default=list, blank=True)  # up to 3 post ids, most reacted first

    objects: ClassVar[TopicScoreQuerySet] = TopicScoreQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        app_label = "scoring"
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(account__isnull=True))
                | (Q(user__isnull=True) & Q(account__isnull=False)),
                name="topic_score_has_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=100), name="topic_score_in_1_100"
            ),
            models.UniqueConstraint(
                fields=["run", "user", "topic"],
                condition=Q(user__isnull=False),
                name="one_user_topic_score_per_run",
            ),
            models.UniqueConstraint(
                fields=["run", "account", "topic"],
                condition=Q(account__isnull=False),
                name="one_account_topic_score_per_run",
            ),
        ]
        indexes = [
            models.Index(fields=["topic", "run", "-score"], name="topic_score_board_idx"),
            models.Index(fields=["user", "run"], name="topic_score_user_idx"),
            models.Index(fields=["account", "run"], name="topic_score_account_idx"),
            models.Index(fields=["run"], name="topic_score_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}: {self.score:.0f}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a topic score is final once written."""
        if self.pk is not None and not self._state.adding:
            raise ImmutableTopicScoreError("TopicScore rows are immutable; compute a new run")
        super().save(*args, **kwargs)

    @property
    def shown(self) -> int:
        """The topic score as people see it."""
        return round(self.score)

    @property
    def evidence_sentence(self) -> str:
        """Why the topic is there, in words ("17 people reacted to 6 of your posts about X")."""
        return self.evidence_words(whose="your")

    @property
    def evidence_public(self) -> str:
        """The same for others to read ("17 people reacted to 6 of their posts about X")."""
        return self.evidence_words(whose="their")

    def evidence_words(self, *, whose: str) -> str:
        """Why the topic is there, seen by the person ("your") or by others ("their")."""
        you = "you" if whose == "your" else "they"
        name = self.topic.display_name
        if self.reactors and self.posts:
            people = "1 person" if self.reactors == 1 else f"{self.reactors} people"
            posts = f"1 of {whose} posts" if self.posts == 1 else f"{self.posts} of {whose} posts"
            sentence = f"{people} reacted to {posts} about {name}"
        elif self.reactions and self.posts:
            # reactions with no one behind them: the network's anonymous up-votes
            votes = "1 up-vote" if self.reactions == 1 else f"{self.reactions} up-votes"
            posts = f"1 of {whose} posts" if self.posts == 1 else f"{self.posts} of {whose} posts"
            sentence = f"{votes} on {posts} about {name}"
        elif self.posts:
            sentence = f"{you} posted about {name} ({self.posts} posts), no reactions yet"
        elif self.inherited:
            sentence = f"from {whose} influence in topics within {name}"
        elif self.added:
            sentence = f"{you} added {name} {'yourself' if you == 'you' else 'themselves'}"
        else:
            sentence = f"{name}"
        if self.plus_k:
            sentence += f"; {self.plus_k} +K"
        return sentence[0].upper() + sentence[1:]
