"""Gathering an experiment's responses: from its response files and from the survey store."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from civiclab.errors import SpecError, SurveyError
from civiclab.home import text_setting
from civiclab.spec.experiment import ExperimentSpec
from civiclab.spec.instruments import Instrument
from civiclab.spec.survey import STORE_ENV, SurveySpec, default_store_url, resolve_store_url
from civiclab.survey.importer import ImportReport, read_export_file
from civiclab.survey.responses import SurveyResponse

if TYPE_CHECKING:
    from civiclab.survey.scoring import InvitedFrom, ScoringOptions
    from civiclab.survey.store import SurveyStore

log = logging.getLogger(__name__)


@dataclass
class SurveyContext:
    """An experiment's survey as the CLI and the web form see it, without loading its pilot."""

    experiment: str
    spec: SurveySpec
    k: int
    source: Path | None
    instruments: list[Instrument] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.instruments:
            self.instruments = self.spec.load_instruments()

    def store_url(self, cli_store: str | None = None) -> str:
        return resolve_store_url(self.spec.store, cli_store)


def find_experiment_file(experiment: str, experiments_dir: Path) -> Path | None:
    """The spec file `experiment` names: a path, a file in `experiments_dir`, or an experiment's `name:`.

    Returns None when nothing matches a bare name (the default survey is used then).

    Raises:
        SpecError: `experiment` is written as a path (`.yaml`, a folder) that does not exist.
    """
    from civiclab.plugins.experiment import read_yaml

    given = Path(experiment)
    for candidate in (given, experiments_dir / experiment, experiments_dir / f"{experiment}.yaml"):
        if candidate.is_file():
            return candidate
    if given.suffix in (".yaml", ".yml") or len(given.parts) > 1:
        raise SpecError(given, "", "file not found")
    for candidate in sorted(experiments_dir.glob("*.y*ml")):
        try:
            raw = read_yaml(candidate)
        except SpecError:
            continue  # a broken neighbour does not hide the one asked for
        if isinstance(raw, dict) and raw.get("name") == experiment:
            return candidate
    return None


def survey_context(experiment: str, *, experiments_dir: Path | None = None) -> SurveyContext:
    """The survey of `experiment`: a spec file path, or a name found as `experiments/NAME.yaml`.

    An experiment without a `survey:` section, or without a spec file, gets the default survey
    (SUS, UTAUT, trust, free text) with k = 5.

    Raises:
        SpecError: the spec file's `survey`, `privacy` or `name` is invalid.
    """
    from pydantic import ValidationError

    from civiclab.plugins.experiment import read_yaml, validation_to_spec_error
    from civiclab.spec.experiment import PrivacySpec

    found = find_experiment_file(experiment, experiments_dir or Path("experiments"))
    if found is None:
        return SurveyContext(experiment=experiment, spec=SurveySpec(), k=5, source=None)
    candidate = found
    raw = read_yaml(candidate)
    if not isinstance(raw, dict):
        raise SpecError(candidate, "(top level)", "an experiment must be a YAML mapping")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError(candidate, "name", "field required")
    context = {"base_dir": candidate.resolve().parent}
    try:
        spec = SurveySpec.model_validate(raw.get("survey") or {}, context=context)
        privacy = PrivacySpec.model_validate(raw.get("privacy") or {})
    except ValidationError as exc:
        title = exc.title
        raise validation_to_spec_error(
            exc, candidate, "survey" if title == "SurveySpec" else "privacy"
        ) from None
    return SurveyContext(experiment=name, spec=spec, k=privacy.k_anonymity, source=candidate.resolve())


@dataclass
class Gathered:
    """Responses of one experiment, each counted once, with what was read to get them."""

    responses: list[SurveyResponse]
    reports: list[ImportReport]
    raw_files: list[tuple[str, bytes]]
    invited: int | None
    synthetic_files: list[str]
    store_url: str | None
    collisions: list[str] = field(default_factory=list)
    """uids met twice with different answers (a file and the store disagree): the first one is kept."""
    invited_from: InvitedFrom = "declared"
    """Where `invited` comes from: the spec's `survey.invited`, or the invitation codes issued."""
    duplicates: int = 0
    """Responses met again with the same content (a declared file also imported, a file declared twice)."""

    @property
    def synthetic_reason(self) -> str | None:
        """Why figures from these responses are not evidence about real people, naming the files; None if none is.

        A file is synthetic when the experiment declares it so, or when its own `datasource` column marks
        its rows SYNTHETIC (imported into the store or declared).
        """
        if not self.synthetic_files:
            return None
        return f"SYNTHETIC responses from {', '.join(self.synthetic_files)} (demo data, not real people)"

    def scoring_options(self, k: int, *, seed: int = 0, resamples: int | None = None) -> ScoringOptions:
        """How to score these responses: k, and the invitations the response rate is over."""
        from civiclab.survey.scoring import DEFAULT_RESAMPLES, ScoringOptions  # numpy: only when scoring

        return ScoringOptions(
            k=k,
            invited=self.invited,
            invited_from=self.invited_from,
            seed=seed,
            resamples=DEFAULT_RESAMPLES if resamples is None else resamples,
        )


def open_store_if_present(url: str) -> SurveyStore | None:
    """The store at `url`, or None for a local SQLite file that does not exist (never create one here)."""
    from civiclab.survey.store import SurveyStore

    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return None
    return SurveyStore(url)


def gather(experiment: str, spec: SurveySpec, *, store_url: str | None = None) -> Gathered:
    """Read the spec's response files and the store's responses, each response counted once.

    A declared file's responses are identified by the file's digest as well as their id, so that a
    lab's real export whose ids are those of a synthetic file (`limesurvey:1`...) keeps its rows;
    a response met again with the same content (a declared file also imported) is counted once, and
    synthetic if either copy is.
    """
    responses: list[SurveyResponse] = []
    seen: dict[str, SurveyResponse] = {}
    by_content: dict[str, SurveyResponse] = {}
    collisions: list[str] = []
    duplicates = 0

    def keep(r: SurveyResponse) -> bool:
        nonlocal duplicates
        same = by_content.get(r.fingerprint)
        if same is not None:
            duplicates += 1
            same.synthetic = same.synthetic or r.synthetic
            return False
        first = seen.get(r.uid)
        if first is None:
            seen[r.uid] = r
            by_content[r.fingerprint] = r
            return True
        if first.answers != r.answers or first.complete != r.complete:
            collisions.append(r.uid)
        return False

    reports: list[ImportReport] = []
    raw_files: list[tuple[str, bytes]] = []
    synthetic: list[str] = []
    instruments = spec.load_instruments()
    for source in spec.responses:
        report, raw = read_export_file(
            source.path,
            instruments,
            format=source.format,
            columns=source.columns or None,
            segments=spec.segments,
            wave=source.wave,
            allow_missing_items=source.allow_missing_items,
            digest_in_source=True,
        )
        reports.append(report)
        raw_files.append((source.path.name, raw))
        for r in report.accepted:
            if source.synthetic:
                r.synthetic = r.synthetic or f"declared synthetic in the experiment ({source.path.name})"
            if keep(r):
                responses.append(r)
    invited = spec.invited
    invited_from: InvitedFrom = "declared"
    used_url: str | None = None
    if spec.read_store:
        url = store_url or text_setting(STORE_ENV) or spec.store or default_store_url()
        store = open_store_if_present(url)
        if store is not None:
            used_url = url
            try:
                for r in store.responses(experiment):
                    if keep(r):
                        responses.append(r)
                for filename, sha, content in store.raw_imports(experiment):
                    if content:
                        raw_files.append((f"import-{sha[:12]}-{Path(filename).name}", content))
                if invited is None:
                    invited = store.invited_count(experiment) or None
                    invited_from = "codes"
            finally:
                store.close()
    for r in responses:
        # Every file some synthetic response came from, declared so or marked so in the file itself.
        name = r.filename or r.source
        if r.synthetic is not None and name not in synthetic:
            synthetic.append(name)
    if collisions:
        # Never silent: the same id from two sources with different answers is another wave's row.
        log.warning(
            "survey of %s: %d responses have the id of another with different answers (kept the first; "
            "give each wave its own `wave:` / --wave): %s",
            experiment,
            len(collisions),
            ", ".join(collisions[:5]),
        )
    return Gathered(
        responses,
        reports,
        raw_files,
        invited,
        synthetic,
        used_url,
        collisions,
        invited_from=invited_from,
        duplicates=duplicates,
    )


def check_response_files(spec_path: Path, spec: ExperimentSpec) -> None:
    """Read every survey export `gather` will read, as it will read it, when the experiment is loaded.

    Raises:
        SpecError: `survey.responses[i].path` is a folder, not an export, or unreadable.
    """
    survey = spec.survey
    if survey is None or not survey.responses:
        return
    instruments = survey.load_instruments()
    for i, source in enumerate(survey.responses):
        try:
            report, _raw = read_export_file(
                source.path,
                instruments,
                format=source.format,
                columns=source.columns or None,
                segments=survey.segments,
                wave=source.wave,
                allow_missing_items=source.allow_missing_items,
            )
        except SurveyError as exc:
            problem = str(exc).removeprefix(f"{source.path}: ")
            raise SpecError(spec_path, f"survey.responses[{i}].path", f"{source.path}: {problem}") from None
        if report.rows and not report.accepted:
            raise SpecError(
                spec_path,
                f"survey.responses[{i}].path",
                f"{source.path}: none of its {report.rows} rows is usable (first: {report.rejected[0]})",
            )


__all__ = [
    "Gathered",
    "SurveyContext",
    "check_response_files",
    "gather",
    "resolve_store_url",
    "survey_context",
]
