"""Synthetic civil documents, their canonical form and their salted digest.

A document is personal data: it travels with the citizen, never to the chain or to a log. What the
town hall anchors is `leaf_hash(document_digest(salt, document))`, where the salt is per document,
so that nobody can confirm a guessed document from the chain without holding the salt.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import random
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from civiclab import canonical_json

DIGEST_DOMAIN = b"civiclab.attestation.document.v1\x00"
SYNTHETIC_NOTICE = (
    "SYNTHETIC: issued by civiclab's attestation pilot for a generated document (no real person, "
    "no real town hall); not a proof of anything"
)
"""Written in every credential the pilot issues (`description`, under the signature) and in its samples."""
GENERATED = (
    "GENERATED documents and forgeries: every document, alteration and forged credential a verifier "
    "checks is made by the attestation pilot, not presented by a citizen or a fraudster"
)
"""Why the pilot's verification figures are SYNTHETIC (its facts' `synthetic`, on every accuracy metric)."""

GIVEN = (
    "Amandine",
    "Bastien",
    "Céline",
    "Damien",
    "Élodie",
    "Fabrice",
    "Gaëlle",
    "Hugo",
    "Inès",
    "Jérôme",
    "Karima",
    "Lucien",
    "Maëlys",
    "Nicolas",
    "Océane",
    "Pierrick",
    "Quentin",
    "Rosalie",
    "Sofiane",
    "Thérèse",
    "Ulysse",
    "Valérie",
    "Wassim",
    "Yasmine",
    "Zoé",
    "Anaïs",
    "Benoît",
    "Chloé",
    "Dylan",
)
FAMILY = (
    "Abadie",
    "Barthélemy",
    "Carrière",
    "Delahaye",
    "Estève",
    "Fournival",
    "Guillemot",
    "Houdebine",
    "Isambert",
    "Jacquemin",
    "Kerbrat",
    "Lemarchal",
    "Mazouzi",
    "Nivelleau",
    "Ollivro",
    "Peyrefitte",
    "Quéméneur",
    "Rabouin",
    "Sarrazin",
    "Thibodeau",
    "Urvoy",
    "Vasseur",
    "Wattebled",
    "Yzerman",
)
STREETS = (
    "rue des Tilleuls",
    "avenue Jean Jaurès",
    "chemin du Moulin",
    "place de la Mairie",
    "allée des Cerisiers",
    "boulevard Gambetta",
    "impasse des Lilas",
    "route de la Forêt",
    "quai des Bateliers",
    "rue Pasteur",
)
CITIES = (
    ("35000", "Rennes"),
    ("69003", "Lyon"),
    ("13001", "Marseille"),
    ("31000", "Toulouse"),
    ("59800", "Lille"),
    ("97400", "Saint-Denis"),
    ("22300", "Lannion"),
    ("46000", "Cahors"),
)
DIPLOMAS = (
    "Baccalauréat général",
    "BTS Comptabilité",
    "Licence de droit",
    "CAP Cuisine",
    "Master d'histoire",
)


def canonical_text(value: str) -> str:
    """NFC, case-folded, whitespace collapsed: a re-typed document hashes like the original."""
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date

    @field_validator(
        "given_name",
        "family_name",
        "street",
        "city",
        "birth_place",
        "title",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _text(cls, value: Any) -> Any:
        return canonical_text(value) if isinstance(value, str) else value

    @field_validator("postcode", "act_number", "diploma_number", mode="before", check_fields=False)
    @classmethod
    def _identifier(cls, value: Any) -> Any:
        return "".join(value.split()).upper() if isinstance(value, str) else value


class ResidenceProof(_Document):
    """Attestation de domicile."""

    kind: Literal["residence"] = "residence"
    street: str = Field(min_length=3, max_length=200)
    postcode: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=100)
    since: dt.date


class CivilStatusExtract(_Document):
    """Extrait d'acte de naissance."""

    kind: Literal["civil_status"] = "civil_status"
    birth_place: str = Field(min_length=1, max_length=100)
    act_number: str = Field(pattern=r"^[0-9A-Z]{4,20}$")


class Diploma(_Document):
    """Diplôme."""

    kind: Literal["diploma"] = "diploma"
    title: str = Field(min_length=2, max_length=200)
    year: int = Field(ge=1950, le=2100)
    diploma_number: str = Field(pattern=r"^[0-9A-Z\-]{6,30}$")


Document = Annotated[ResidenceProof | CivilStatusExtract | Diploma, Field(discriminator="kind")]
KINDS: tuple[str, ...] = ("residence", "civil_status", "diploma")


class MalformedDocument(ValueError):
    """A document that does not fit any known kind; the message names the field, never its value."""


@functools.cache
def _adapter() -> Any:
    from pydantic import TypeAdapter

    # Built once: building a TypeAdapter costs ~1 ms, validating with it ~20 us.
    return TypeAdapter(Document)


def parse_document(data: Any) -> ResidenceProof | CivilStatusExtract | Diploma:
    """Validate a presented document (a mapping); raises `MalformedDocument` naming the field."""
    try:
        return _adapter().validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise MalformedDocument(f"{where}: {first['msg']}") from None


def canonical_bytes(document: ResidenceProof | CivilStatusExtract | Diploma) -> bytes:
    return canonical_json(document.model_dump(mode="json")).encode("utf-8")


def document_digest(salt: bytes, document: ResidenceProof | CivilStatusExtract | Diploma) -> bytes:
    """sha256(domain ‖ salt ‖ canonical JSON): the only thing derived from the document that leaves it."""
    if len(salt) != 32:
        raise ValueError("the salt must be 32 bytes")
    return hashlib.sha256(DIGEST_DOMAIN + salt + canonical_bytes(document)).digest()


def document_salt(key: str, session_id: str, seed: int) -> bytes:
    """A per-document salt, secret as long as `key` is (the run's pseudonym salt).

    Derived rather than drawn so that the same spec, seed and key give the same audit root;
    a production issuer would draw it from `secrets.token_bytes(32)`.
    """
    return hmac.new(key.encode(), f"attestation-salt:{session_id}:{seed}".encode(), hashlib.sha256).digest()


def synthetic_document(kind: str, rng: random.Random) -> ResidenceProof | CivilStatusExtract | Diploma:
    """A fake but well-formed document of `kind`, drawn from `rng` (seeded by the session)."""
    birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 66))
    common: dict[str, Any] = {
        "given_name": rng.choice(GIVEN),
        "family_name": rng.choice(FAMILY),
        "birth_date": birth,
    }
    postcode, city = rng.choice(CITIES)
    if kind == "residence":
        return ResidenceProof(
            **common,
            street=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
            postcode=postcode,
            city=city,
            since=dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 3650)),
        )
    if kind == "civil_status":
        return CivilStatusExtract(
            **common, birth_place=city, act_number=f"{birth.year}{rng.randrange(10**6):06d}"
        )
    if kind == "diploma":
        year = min(2025, birth.year + rng.randint(18, 30))
        return Diploma(
            **common,
            title=rng.choice(DIPLOMAS),
            year=year,
            diploma_number=f"DIP-{year}-{rng.randrange(10**7):07d}",
        )
    raise ValueError(f"unknown document kind {kind!r}")


def personal_values(document: ResidenceProof | CivilStatusExtract | Diploma) -> list[str]:
    """The values of `document` that identify a person, as they could appear anywhere (any case)."""
    d = document.model_dump(mode="json")
    values = [
        f"{d['given_name']} {d['family_name']}",
        d["family_name"],
        d["birth_date"],
    ]
    for key in ("street", "act_number", "diploma_number"):
        if key in d:
            values.append(d[key])
    return values
