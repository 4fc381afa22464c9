"""The `survey:` section of an experiment: which instruments, which response files, which store.

Paths are written relative to the experiment file, like every other data file (`civiclab.spec.paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from civiclab.errors import SurveyError
from civiclab.home import text_setting
from civiclab.spec.paths import DataFile

STORE_ENV = "CIVICLAB_SURVEY_STORE"
Language = Literal["fr", "en"]
_LANGUAGES: tuple[Language, ...] = ("fr", "en")
DEFAULT_INSTRUMENTS: tuple[str, ...] = ("sus", "utaut", "trust", "feedback")

DEFAULT_SEGMENT_COLUMNS: dict[str, str] = {
    # LimeSurvey question codes are letters and digits only, hence the short codes.
    "age_band": "AGEBAND",
    "digital_literacy": "DIGLIT",
    "disability": "DISAB",
    "device": "DEVICE",
    "territory": "TERRIT",
    "language": "startlanguage",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstrumentRef(_Strict):
    """A built-in instrument by `name`, or a lab's own instrument file by `path`."""

    name: str | None = None
    path: DataFile | None = None

    @model_validator(mode="after")
    def _one_of(self) -> InstrumentRef:
        if (self.name is None) == (self.path is None):
            raise ValueError("give exactly one of `name` (built-in) or `path` (YAML file)")
        return self

    @property
    def ref(self) -> str | Path:
        return self.path if self.path is not None else str(self.name)


def _instrument_shorthand(value: Any) -> Any:
    if isinstance(value, str):
        return {"path": value} if value.endswith((".yaml", ".yml")) or "/" in value else {"name": value}
    return value


InstrumentEntry = Annotated[InstrumentRef, BeforeValidator(_instrument_shorthand)]


class ResponseFile(_Strict):
    """A response export read into every run: a LimeSurvey export, or a plain CSV with a column mapping."""

    path: DataFile
    format: Literal["limesurvey", "csv"] = "limesurvey"
    columns: dict[str, str] = Field(
        default_factory=dict, description="plain CSV only: source column -> civiclab column (e.g. SUS[SQ001])"
    )
    synthetic: bool = Field(default=False, description="the responses are generated, not real")
    wave: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$",
        description="the wave these responses belong to: part of each response's identity",
    )
    allow_missing_items: bool = Field(
        default=False, description="accept an export lacking scored item columns (the scores are flagged)"
    )

    @model_validator(mode="after")
    def _mapping_for_csv(self) -> ResponseFile:
        if self.columns and self.format != "csv":
            raise ValueError("`columns` only applies to format: csv")
        return self


class SurveySpec(_Strict):
    """What participants answer, where answers come from, and how they are stored."""

    instruments: list[InstrumentEntry] = Field(
        default_factory=lambda: [InstrumentRef(name=n) for n in DEFAULT_INSTRUMENTS], min_length=1
    )
    languages: list[Language] = Field(default_factory=lambda: list(_LANGUAGES), min_length=1)
    title: dict[Literal["fr", "en"], str] = Field(default_factory=dict)
    responses: list[ResponseFile] = Field(default_factory=list)
    store: str | None = Field(
        default=None,
        description=f"SQLAlchemy URL of the survey store; default ${STORE_ENV} or mlruns/survey.db",
    )
    read_store: bool = Field(default=True, description="also score what the web form and imports stored")
    invited: int | None = Field(default=None, ge=1, description="people invited, when not counted from codes")
    segments: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SEGMENT_COLUMNS), description="segment attribute -> column"
    )
    resamples: int = Field(default=1000, ge=100, le=100_000)
    public_results: bool = True
    judged: str | None = Field(
        default=None,
        min_length=1,
        description="the pilot version these answers judged (a design version the lab names, 'v2-phone-step'): "
        "runs declaring the same one share one judgement, which `civiclab compare` never tests against itself",
    )

    @model_validator(mode="after")
    def _instruments_load(self) -> SurveySpec:
        from civiclab.spec.instruments import check_unique, load_instrument

        try:
            check_unique([load_instrument(ref.ref) for ref in self.instruments])
        except SurveyError as exc:
            raise ValueError(f"instruments: {exc}") from None
        return self

    def load_instruments(self) -> list[Any]:
        """The instruments, in the order the form shows them."""
        from civiclab.spec.instruments import load_instrument

        return [load_instrument(ref.ref) for ref in self.instruments]


def default_store_url(root: Path | None = None) -> str:
    """The local survey store: a SQLite file beside the MLflow store (both ignored by git)."""
    path = ((root or Path.cwd()) / "mlruns" / "survey.db").resolve()
    return f"sqlite:///{path}"


def resolve_store_url(spec_store: str | None = None, cli_store: str | None = None) -> str:
    """`--store`, then $CIVICLAB_SURVEY_STORE, then the spec, then the default SQLite file."""
    return cli_store or text_setting(STORE_ENV) or spec_store or default_store_url()
