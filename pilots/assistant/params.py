"""Parameters of the assistant pilot (`pilot.params` of an experiment), validated before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civiclab import DataFile
from pilots.assistant.systems.config import BuiltinSystem, SystemSpec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfflineAnswer(_Strict):
    """The default: an answer composed from the retrieved passages, with citations; no generative model."""

    kind: Literal["offline"] = "offline"
    max_sentences: int = Field(default=3, ge=1, le=10)


class OpenAIAnswer(_Strict):
    """Any OpenAI-compatible chat endpoint (vLLM, Ollama, a government LLM API)."""

    kind: Literal["openai"]
    base_url: str = Field(pattern=r"^https?://", description="e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(default=None, description="name of the environment variable with the key")
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_tokens: int = Field(default=300, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0, le=2)


class LocalAnswer(_Strict):
    """A local transformers model folder, run through langchain_huggingface.HuggingFacePipeline."""

    kind: Literal["local"]
    model_dir: DataFile
    max_new_tokens: int = Field(default=64, ge=1, le=2048)
    timeout_s: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("model_dir")
    @classmethod
    def _is_model_folder(cls, value: Path) -> Path:
        if not value.is_dir() or not (value / "config.json").is_file():
            raise ValueError(f"not a transformers model folder (no config.json): {value}")
        return value


AnswerSpec = Annotated[OfflineAnswer | OpenAIAnswer | LocalAnswer, Field(discriminator="kind")]


class AssistantParams(_Strict):
    """What the assistant pilot needs: its knowledge base, its scenarios and how it answers."""

    knowledge_base: DataFile = Field(description="YAML file of procedure sheets")
    questions: DataFile = Field(description="JSONL evaluation split: the questions asked in a run")
    training: DataFile = Field(description="JSONL training split: fits the hand-over router only")
    redaction_labelled: DataFile | None = Field(default=None, description="JSONL labelled redaction set")
    system: SystemSpec = Field(
        default_factory=BuiltinSystem,
        description="what is evaluated: the built-in pipeline, or the lab's own (openai, http, python)",
    )
    send_personal_data: bool = Field(
        default=False,
        description="send an external system the scenario's question as written (synthetic personal "
        "values included) to measure whether it echoes them; default: the redacted question",
    )
    answer: AnswerSpec = Field(default_factory=OfflineAnswer)
    top_k: int = Field(default=4, ge=1, le=20, description="passages retrieved per question")
    lexical_weight: float = Field(
        default=0.5,
        ge=0,
        le=5,
        description="weight of word overlap added to the cosine score (0: dense only)",
    )
    questions_per_session: int = Field(default=2, ge=1, le=20)
    handover_threshold: float = Field(default=0.5, gt=0, lt=1)
    shap_background: int = Field(default=60, ge=5, le=1000, description="training rows SHAP compares with")
    adversarial_scan: bool = Field(
        default=False,
        description="after the sessions, ask civiclab's adversarial bank to the evaluated system: one census "
        "per category (human_centered.bank_*), the report signed as the run's scan.json",
    )
    adversarial_bank: DataFile | None = Field(
        default=None, description="a bank of the lab's own, in the shape of civiclab's (default: civiclab's)"
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=512)
