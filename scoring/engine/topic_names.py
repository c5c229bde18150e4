"""Topic names: normalisation, aliases and the ontology's levels (pure Python, no Django).

Everything that compares a tag, hashtag or name with the ontology goes through `normalise`, so the
stored aliases and what is looked up agree: "Machine-Learning", "machine_learning" and
"MACHINE LEARNING" are one name, "C++" is "cpp", "C#" is "csharp", "Réunion" is "reunion".
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Mapping

# Forms that punctuation stripping would destroy, rewritten first ("c++" -> "cpp").
_SYMBOLS = (
    (re.compile(r"(?<![\w])c\s*\+\+"), "cpp"),
    (re.compile(r"(?<![\w])(c|f)\s*#"), r"\1sharp"),
    (re.compile(r"(?<![\w])\.net\b"), "dotnet"),
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"\+"), " plus "),
)
_APOSTROPHES = re.compile("['\u2019`\u00b4]")  # straight, curly, grave, acute
_NON_WORD = re.compile(r"[^0-9a-z]+")

SUB = "sub"
ENTITY = "entity"


def normalise(text: str) -> str:
    """The comparable form of a name: lower case, no accents, words of [0-9a-z] split by spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    text = _APOSTROPHES.sub("", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text).split())


def _number_forms(name: str) -> set[str]:
    """The name with its last word in singular and plural form ("algorithm" <-> "algorithms")."""
    head, _, last = name.rpartition(" ")
    prefix = f"{head} " if head else ""
    if len(last) < 4 or last.isdigit():
        return set()
    if last.endswith("ies"):
        return {prefix + last[:-3] + "y"}
    if last.endswith(("sses", "xes", "ches", "shes")):
        return {prefix + last[:-2]}
    if last.endswith(("ss", "us", "is")):
        return {prefix + last + "es"} if last.endswith("ss") else set()
    if last.endswith("s"):
        return {prefix + last[:-1]}
    if last.endswith("y") and last[-2] not in "aeiou":
        return {prefix + last[:-1] + "ies"}
    if last.endswith(("x", "ch", "sh")):
        return {prefix + last + "es"}
    return {prefix + last + "s"}


def variants(name: str) -> set[str]:
    """Every normalised form a name is recognised by: itself, singular/plural, without spaces."""
    base = normalise(name)
    if not base:
        return set()
    forms = {base} | _number_forms(base)
    forms |= {f.replace(" ", "") for f in forms if " " in f}
    return forms


def aliases(slug: str, names: Iterable[str]) -> dict[str, str]:
    """A topic's aliases -> where each came from ("slug", "name", "variant"), normalised."""
    out: dict[str, str] = {}
    for source, texts in (("slug", [slug]), ("name", list(names))):
        for text in texts:
            base = normalise(text)
            if base and base not in out:
                out[base] = source
    for text in [slug, *names]:
        for form in variants(text):
            out.setdefault(form, "variant")
    return out


def depths(edges: Iterable[tuple[str, str]], root: str) -> dict[str, int]:
    """Shortest distance from `root` of every topic reachable through (parent, child) edges."""
    children: dict[str, list[str]] = {}
    for parent, child in edges:
        if parent != child:
            children.setdefault(parent, []).append(child)
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in children.get(node, ()):
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    return depth


def topic_type(depth: int) -> str:
    """Klout's topicType from a topic's level: "sub" for categories, "entity" for the rest.

    Klout's ontology has three levels (Ellinger et al. 2017): 16 super topics under the root,
    about 580 sub topics directly under them (software-development, physics, fitness), and
    entities below those (timbaland, python, quantum-computing). The API names only "sub" and
    "entity", so super topics (depth 1) and sub topics (depth 2) are "sub"; anything deeper, or
    unreachable from the root, is an "entity".
    """
    return SUB if 1 <= depth <= 2 else ENTITY


def type_counts(depth: Mapping[str, int]) -> dict[str, int]:
    """How many topics of each type a depth map gives (the root itself not counted)."""
    counts = {SUB: 0, ENTITY: 0}
    for d in depth.values():
        if d > 0:
            counts[topic_type(d)] += 1
    return counts
