"""Text utilities shared by pilots and evaluators: words, sentences, readability, knowledge bases.

A public module: its `__all__` is what a pilot or an evaluator may import. The knowledge-base
loaders read YAML and are imported on first use, so `civiclab.text.words` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from civiclab.text.readability import kandel_moles
from civiclab.text.words import content_words, normalise, sentences

if TYPE_CHECKING:
    from civiclab.text.knowledge import (
        KnowledgeBase,
        Passage,
        PersonalValue,
        Question,
        Sheet,
        load_knowledge_base,
        load_questions,
        passages,
    )

_LAZY = frozenset(
    {
        "KnowledgeBase",
        "Passage",
        "PersonalValue",
        "Question",
        "Sheet",
        "load_knowledge_base",
        "load_questions",
        "passages",
    }
)


def __getattr__(name: str) -> Any:
    """The knowledge-base names, imported on first use (they bring YAML and the experiment loader)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'civiclab.text' has no attribute {name!r}")
    value = getattr(importlib.import_module("civiclab.text.knowledge"), name)
    globals()[name] = value
    return value


__all__ = [
    "KnowledgeBase",
    "Passage",
    "PersonalValue",
    "Question",
    "Sheet",
    "content_words",
    "kandel_moles",
    "load_knowledge_base",
    "load_questions",
    "normalise",
    "passages",
    "sentences",
]
