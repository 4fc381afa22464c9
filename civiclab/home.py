"""The lab's home and its settings: every `CIVICLAB_*` environment variable civiclab reads, in one table.

Each setting is read where it is used, when it is used (a long-lived desk or survey server, or a
test, may change it), but always through this module: so the table below is complete (a test scans
the source for `CIVICLAB_` names), and a number that does not parse is refused in one line naming
the variable instead of being ignored. `civiclab settings` prints the table; the README's
"Settings" section is the same table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from civiclab.errors import SettingError


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, the value used when it is unset, and what it changes."""

    name: str
    default: str | int | None
    meaning: str
    shown_default: str = ""
    """How the default reads in the table when it is not a plain value (computed, or "off")."""

    @property
    def default_text(self) -> str:
        if self.shown_default:
            return self.shown_default
        if isinstance(self.default, int):
            return f"{self.default:,}".replace(",", " ")
        return f"`{self.default}`"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CIVICLAB_HOME",
        "~/.config/civiclab",
        "the lab's home: signing keys, secrets (pseudonym salt, survey codes), desk accounts, "
        "pending reviews, the redaction cache, the journal MACs of runs not yet finished",
    ),
    Setting("CIVICLAB_KEY", None, "name of the key runs are signed with", "the first key created"),
    Setting(
        "CIVICLAB_TRUST",
        None,
        "the committee's trust file: whose signatures, and which anchor registry, count (`--trust` wins)",
        "none: signers are shown unchecked",
    ),
    Setting(
        "CIVICLAB_PSEUDONYM_SALT",
        None,
        "salt of participants' pseudonyms (the variable a spec's `privacy.salt_env` names by default)",
        "a random lab secret, drawn once",
    ),
    Setting(
        "CIVICLAB_MAX_SPEC_BYTES", 5_000_000, "largest experiment, persona or mapping YAML read, in bytes"
    ),
    Setting(
        "CIVICLAB_MAX_DATA_BYTES", 200_000_000, "largest data file read (survey export, JSONL, CSV), in bytes"
    ),
    Setting("CIVICLAB_MAX_YAML_ALIASES", 100, "alias nodes (`*name`) allowed in one YAML document"),
    Setting(
        "CIVICLAB_MAX_REPLY_BYTES",
        10_000_000,
        "largest reply read from an external system (an assistant's endpoint, an LRS page), in bytes",
    ),
    Setting("CIVICLAB_LRS_MAX_PAGES", 100_000, "pages read from a learning record store in one run, at most"),
    Setting(
        "CIVICLAB_LRS_MAX_STATEMENTS",
        10_000_000,
        "statements read from a learning record store in one run, at most",
    ),
    Setting(
        "CIVICLAB_TRACKING_RETRIES",
        2,
        "retries of an MLflow HTTP request (MLflow's MLFLOW_HTTP_REQUEST_MAX_RETRIES wins when set)",
    ),
    Setting(
        "CIVICLAB_TRACKING_TIMEOUT_S",
        5,
        "seconds for the store's reachability check and each MLflow HTTP request, at least 1 "
        "(MLflow's MLFLOW_HTTP_REQUEST_TIMEOUT wins when set)",
    ),
    Setting(
        "CIVICLAB_STAGING_DIR",
        None,
        "where a run on a remote store stages its artifacts, so that a resumed run finds them",
        "the system's temporary folder",
    ),
    Setting("CIVICLAB_SPACY_MODEL", "fr_core_news_md", "the spaCy model redaction finds names with"),
    Setting(
        "CIVICLAB_SURVEY_STORE",
        None,
        "SQLAlchemy URL of the survey store (`--store` wins; then this; then the spec's `store`)",
        "mlruns/survey.db",
    ),
    Setting(
        "CIVICLAB_SURVEY_RATE_LIMIT",
        30,
        "form posts per client per minute before 429; 0 turns the limit off (`--rate-limit` wins)",
    ),
    Setting(
        "CIVICLAB_SURVEY_ADMIN_TOKEN",
        None,
        "bearer token of the survey's admin export",
        "unset: the export is disabled",
    ),
    Setting(
        "CIVICLAB_DESK_KEY_<KEY>",
        None,
        "passphrase of desk member key KEY (upper case, other characters `_`) when it signs outside the desk",
        "unset: the key opens only in the desk",
    ),
    Setting(
        "CIVICLAB_DESK_OIDC_SECRET",
        None,
        "the desk's client secret at the identity provider (`civiclab desk --oidc-issuer`)",
        "unset: needed only with `--oidc-issuer`",
    ),
    Setting(
        "CIVICLAB_FAULT_AT",
        None,
        "tests only: kill the process at a named step of recording a review",
        "unset: never",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def lab_home() -> Path:
    """The lab's own folder: `CIVICLAB_HOME`, else `~/.config/civiclab`."""
    return Path(str(text_setting("CIVICLAB_HOME"))).expanduser()


def text_setting(name: str) -> str | None:
    """The value of setting `name` in the environment, else its default (None: unset means off)."""
    value = os.environ.get(_known(name).name)
    if value:
        return value
    default = _BY_NAME[name].default
    return None if default is None else str(default)


def int_setting(name: str) -> int:
    """Setting `name` as a whole number (0 or more), else its default.

    Raises:
        SettingError: the value is not a whole number, or is negative.
    """
    text = os.environ.get(_known(name).name)
    if not text:
        return int(_BY_NAME[name].default or 0)
    return int(parse_number(name, text, int))


def parse_number(name: str, text: str, kind: type[int] | type[float] = int) -> int | float:
    """`text`, the value of environment variable `name`, as a number of `kind`, 0 or more.

    Raises:
        SettingError: one line naming the variable, when the value does not parse or is negative.
    """
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise SettingError(f"${name}: {text[:20]!r} is not {what}") from None
    if not value >= 0:  # also refuses nan
        raise SettingError(f"${name}: must not be negative")
    return value


def settings_table() -> str:
    """The settings as a Markdown table (what `civiclab settings` prints and the README shows)."""
    rows = ["| variable | default | what it changes |", "| --- | --- | --- |"]
    rows += [f"| `{s.name}` | {s.default_text} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)


def _known(name: str) -> Setting:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not a civiclab setting: add it to civiclab.home.SETTINGS") from None
