"""Survey instruments as data: validated questionnaires described in YAML, in French and English.

An instrument is a LimeSurvey-style question group: a `code` (the array question code) and items
(the sub-question codes), so that an item's answer lives in the column `CODE[ITEM]` of an export,
of the survey store and of the web form. Built-in instruments are packaged next to this module
(`instruments/*.yaml`); a lab adds its own in the same format and names its path in the spec.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from civiclab.errors import SurveyError

BUILTIN_DIR = Path(__file__).parent / "instruments"
LANGUAGES: tuple[str, ...] = ("fr", "en")
CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9]{0,19}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """A text in every language the form offers."""

    fr: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.fr


class Scale(_Strict):
    """An ordinal answer scale from `min` to `max`, one label per point in each language."""

    min: int = 1
    max: int = Field(ge=2, le=20, description="at most 21 points (the NASA-TLX paper scale: 0-20)")
    labels: dict[Literal["fr", "en"], list[str]]

    @model_validator(mode="after")
    def _labels_match(self) -> Scale:
        if self.max <= self.min:
            raise ValueError("scale.max must be greater than scale.min")
        points = self.max - self.min + 1
        for lang in LANGUAGES:
            labels = self.labels.get(lang)  # type: ignore[call-overload]
            if labels is None or len(labels) != points:
                raise ValueError(f"scale.labels.{lang}: give one label for each of the {points} points")
        return self

    @property
    def points(self) -> range:
        return range(self.min, self.max + 1)

    def label(self, lang: str, value: int) -> str:
        return self.labels["en" if lang == "en" else "fr"][value - self.min]


class GradeBand(_Strict):
    """A grade given to a construct score at or above `min` (bands are listed from the top)."""

    min: float
    grade: str
    label: Localized


class Construct(_Strict):
    """What a group of items measures, and how it is scored."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    label: Localized
    metric: str | None = Field(default=None, description="metric suffix; default `<instrument>.<code>`")
    scoring: Literal["mean", "sus", "weighted_sum", "raw_tlx"] = "mean"
    """`raw_tlx`: NASA-TLX without weights (Hart 2006), the mean of the subscales, each rated on the
    paper scale's 21 marks (0-20) and read as 0-100 (five points a mark)."""
    weight: float | None = Field(
        default=None, gt=0, description="weighted_sum: the sum of the items times this"
    )
    of: list[str] = Field(
        default_factory=list,
        description="weighted_sum over the items of these constructs, each counted as often as it loads "
        "(the SSQ total: 3.74 x the three raw subscale sums)",
    )
    min_answered: int | None = Field(default=None, ge=1, description="fewest answered items to score")
    higher_is_better: bool = True
    unit: str = ""


class Item(_Strict):
    """One question: its sub-question code, wording, construct and whether it is reverse-scored."""

    code: str = Field(pattern=CODE_PATTERN)
    text: Localized
    type: Literal["likert", "text"] = "likert"
    construct_code: str | None = Field(default=None, alias="construct")
    also: list[str] = Field(
        default_factory=list,
        description="other constructs the item also loads on (an SSQ symptom may load on two)",
    )
    reverse: bool = False
    required: bool | None = Field(default=None, description="default: Likert items yes, text items no")
    max_length: int = Field(default=2000, ge=1, le=20000)

    @property
    def is_required(self) -> bool:
        return self.type == "likert" if self.required is None else self.required


class Instrument(_Strict):
    """A questionnaire: a LimeSurvey array question `code` whose items are its sub-questions."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")
    code: str = Field(pattern=CODE_PATTERN)
    version: int = 1
    title: Localized
    intro: Localized | None = None
    citation: str = ""
    scale: Scale | None = None
    constructs: list[Construct] = Field(default_factory=list)
    items: list[Item] = Field(min_length=1)
    grades: list[GradeBand] = Field(default_factory=list)
    grade_source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        codes = [i.code for i in self.items]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                raise ValueError(f"items[{i}].code: duplicate item code {code!r}")
        names = {c.code for c in self.constructs}
        if len(names) != len(self.constructs):
            raise ValueError("constructs: duplicate construct code")
        for i, item in enumerate(self.items):
            if item.type == "likert":
                if self.scale is None:
                    raise ValueError(f"items[{i}]: a Likert item needs the instrument's `scale`")
                if item.construct_code not in names:
                    raise ValueError(
                        f"items[{i}].construct: {item.construct_code!r} is not one of {sorted(names)}"
                    )
                for other in item.also:
                    if other not in names or other == item.construct_code:
                        raise ValueError(f"items[{i}].also: {other!r} is not another construct")
            elif item.construct_code is not None or item.reverse:
                raise ValueError(f"items[{i}]: a text item has no construct and is not reverse-scored")
        for construct in self.constructs:
            if (construct.scoring == "weighted_sum") != (construct.weight is not None):
                raise ValueError(f"constructs: {construct.code!r}: `weight` goes with scoring weighted_sum")
            for part in construct.of:
                found = next((c for c in self.constructs if c.code == part), None)
                if found is None or found.of:
                    raise ValueError(
                        f"constructs: {construct.code!r}.of: {part!r} is not a construct of items"
                    )
            if construct.of and construct.scoring != "weighted_sum":
                raise ValueError(f"constructs: {construct.code!r}: `of` needs scoring weighted_sum")
            members = self.construct_items(construct.code)
            if not members:
                raise ValueError(f"constructs: {construct.code!r} has no items")
            if construct.min_answered is not None and construct.min_answered > len(members):
                raise ValueError(
                    f"constructs: {construct.code!r}.min_answered exceeds its {len(members)} items"
                )
            if construct.scoring == "raw_tlx" and (
                self.scale is None or (self.scale.min, self.scale.max) != (0, 20) or len(members) != 6
            ):
                raise ValueError(f"constructs: {construct.code!r}: raw TLX needs 6 subscales on a 0-20 scale")
            if construct.scoring == "sus" and (
                self.scale is None or (self.scale.min, self.scale.max) != (1, 5) or len(members) != 10
            ):
                raise ValueError(f"constructs: {construct.code!r}: SUS scoring needs 10 items on a 1-5 scale")
        bounds = [g.min for g in self.grades]
        if bounds != sorted(bounds, reverse=True):
            raise ValueError("grades: list the bands from the highest `min` down")
        return self

    def column(self, item: Item) -> str:
        """The column of an item in a LimeSurvey export, the store and the form: `CODE[ITEM]`."""
        return f"{self.code}[{item.code}]"

    @property
    def columns(self) -> dict[str, Item]:
        return {self.column(item): item for item in self.items}

    def construct_items(self, construct: str) -> list[Item]:
        """The items a construct is scored from; for a total (`of`), each item as often as it loads."""
        found = next((c for c in self.constructs if c.code == construct), None)
        if found is not None and found.of:
            return [item for part in found.of for item in self.construct_items(part)]
        return [
            i
            for i in self.items
            if i.type == "likert" and (i.construct_code == construct or construct in i.also)
        ]

    def metric_suffix(self, construct: Construct) -> str:
        return construct.metric or f"{self.name}.{construct.code}"

    def grade(self, score: float) -> GradeBand | None:
        for band in self.grades:
            if score >= band.min:
                return band
        return None


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


@functools.lru_cache(maxsize=64)
def _load_file(path: Path, mtime: float) -> Instrument:
    from civiclab.spec.limits import max_spec_bytes, safe_load

    try:
        if path.stat().st_size > max_spec_bytes():
            raise SurveyError(f"{path}: instrument file over the size limit (CIVICLAB_MAX_SPEC_BYTES)")
        data = safe_load(path.read_text(encoding="utf-8"))  # with the alias budget
    except (OSError, UnicodeDecodeError) as exc:
        raise SurveyError(f"{path}: cannot read instrument: {exc}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise SurveyError(f"{path}: malformed YAML value: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise SurveyError(f"{path}: {where}malformed YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SurveyError(f"{path}: an instrument must be a YAML mapping")
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        raise SurveyError(f"{path}: {where}: {message}") from None


def load_instrument(ref: str | Path) -> Instrument:
    """A built-in instrument by name (`sus`, `utaut`, `trust`, `feedback`) or one from a YAML path.

    Raises:
        SurveyError: unknown name, unreadable file or invalid instrument (names the file and field).
    """
    if isinstance(ref, str) and not ref.endswith((".yaml", ".yml")) and "/" not in ref:
        path = BUILTIN_DIR / f"{ref}.yaml"
        if not path.exists():
            raise SurveyError(
                f"unknown instrument {ref!r}: built-in instruments are {', '.join(builtin_names())}"
            )
    else:
        path = Path(ref)
        if not path.exists():
            raise SurveyError(f"{path}: instrument file not found")
    path = path.resolve()
    return _load_file(path, path.stat().st_mtime)


def check_unique(instruments: list[Instrument]) -> None:
    """Two instruments of one survey may not share a name or a question code."""
    seen_names: set[str] = set()
    seen_codes: set[str] = set()
    for inst in instruments:
        if inst.name in seen_names or inst.code in seen_codes:
            raise SurveyError(f"instrument {inst.name!r} ({inst.code}) appears twice in the survey")
        seen_names.add(inst.name)
        seen_codes.add(inst.code)
