"""The assistant pilot with its real parts: MiniLM embeddings, the vector store, the router and SHAP."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.privacy.redaction import find_personal_data
from civiclab.run.runner import build_pilot, record_fingerprint
from pilots.assistant.pilot import AssistantPilot
from pilots.assistant.signals import FEATURES
from tests.pilots.assistant_support import find_question, plan_for, write_spec


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> AssistantPilot:
    experiment = load_experiment(write_spec(tmp_path_factory.mktemp("assistant")))
    built = build_pilot(experiment)
    assert isinstance(built, AssistantPilot)
    built.setup()
    return built


def test_setup_embeds_every_section_and_fits_the_router_on_the_training_split(pilot: AssistantPilot) -> None:
    assert pilot.retriever is not None and pilot.router is not None
    assert len(pilot.retriever.passages) == sum(len(s.sections) for s in pilot.kb.sheets) >= 120
    card = pilot.router.describe()
    assert card["n_train"] == len(pilot.training) >= 100
    weights = card["coefficients_standardised"]
    # What a committee expects the router to have learnt from the labels: these push towards a human.
    for signal in ("complaint_signal", "distress_signal", "human_request"):
        assert weights[signal] > 0, signal
    assert weights["topic_overlap"] < 0  # a question far from every sheet goes to a person
    assert card["train_accuracy"] > 0.8


@pytest.mark.parametrize(
    ("question", "sheet"),
    [
        ("Combien coûte un passeport pour un adulte ?", "S06"),
        ("Quels sont les horaires de la déchetterie ?", "S25"),
        ("Comment réserver les repas de la cantine scolaire ?", "S18"),
        ("Comment enregistrer un PACS ?", "S12"),
        ("How much does a school lunch cost?", "S18"),
        ("Comment obtenir une carte de stationnement résident ?", "S27"),
    ],
)
def test_retrieval_puts_the_answering_sheet_first(pilot: AssistantPilot, question: str, sheet: str) -> None:
    assert pilot.retriever is not None
    hits = pilot.retriever.search(question, 4)
    assert hits[0].passage.sheet == sheet
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_a_turn_is_traced_redacted_and_explained(pilot: AssistantPilot) -> None:
    with_pii = find_question(lambda q: "EMAIL" in {p["kind"] for p in q["personal_data"]})
    record = pilot.run_session(plan_for([with_pii["id"]]))
    kinds = [e.kind for e in record.events]
    assert kinds[:3] == ["turn.question", "turn.retrieval", "turn.route"]
    assert kinds[3] in ("turn.answer", "turn.handover")
    dumped = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
    for item in with_pii["personal_data"]:
        assert item["value"] not in dumped
    assert "[EMAIL]" in record.events[0].payload["question"]

    route = record.events[2].payload
    assert set(route["shap"]) == set(FEATURES)
    # SHAP's promise for a linear model: base value + contributions = the decision's log-odds.
    logit = math.log(route["p_handover"] / (1 - route["p_handover"]))
    assert route["shap_base"] + sum(route["shap"].values()) == pytest.approx(logit, abs=0.01)
    assert route["explanation"].startswith("Information sur le traitement automatisé")
    assert "Principaux facteurs" in route["explanation"] and "parler à un agent" in route["explanation"]
    # Wall-clock values stay out of the events (they are hashed into the audit chain).
    assert all(not k.endswith("_ms") for e in record.events for k in e.payload)
    assert record.timings["turn0.total_ms"] > 0


def test_someone_asking_for_a_person_is_handed_over(pilot: AssistantPilot) -> None:
    ask = find_question(lambda q: q["reason"] == "human_request" and q["profile"] == "standard")
    record = pilot.run_session(plan_for([ask["id"]]))
    turn = record.data["turns"][0]
    assert turn["decision"] == "handover"
    assert record.outcome == "escalated_to_human"
    assert record.channel_path == ["assistant", "human_agent"]
    assert "agent" in turn["answer"]
    top_two = sorted(turn["shap"], key=lambda f: -turn["shap"][f])[:2]
    assert "human_request" in top_two
    assert "une demande de parler à une personne" in turn["explanation"]


def test_english_speakers_get_the_explanation_in_english(pilot: AssistantPilot) -> None:
    question = find_question(lambda q: q["language"] == "en" and q["expected"] == "answer")
    turn = pilot.run_session(plan_for([question["id"]], language="en")).data["turns"][0]
    assert turn["explanation"].startswith("Automated processing notice")
    assert "talk to a person" in turn["explanation"]


def test_an_answer_cites_retrieved_sheets_with_their_sentences(pilot: AssistantPilot) -> None:
    question = find_question(lambda q: q["text"].startswith("Quels sont les horaires de la déchetterie"))
    turn = pilot.run_session(plan_for([question["id"]])).data["turns"][0]
    assert turn["decision"] == "answer" and turn["status"] == "ok"
    assert "[S25]" in turn["answer"]
    assert "de 9h à 12h et de 14h à 18h" in turn["answer"]
    assert "guichet" in turn["notice"] or "France services" in turn["notice"]


def test_the_same_plan_gives_the_same_record(pilot: AssistantPilot) -> None:
    ids = [find_question(lambda q: q["reason"] == "complaint")["id"], "q001"]
    first, second = (pilot.run_session(plan_for(ids, index=3)) for _ in range(2))
    assert record_fingerprint(first) == record_fingerprint(second)


def test_plans_deal_questions_by_persona_profile(pilot: AssistantPilot) -> None:
    plans = pilot.plans(150, seed=11)
    assert [p.model_dump() for p in plans] == [p.model_dump() for p in pilot.plans(150, seed=11)]
    asked = {qid for p in plans for qid in p.source["questions"]}
    assert len(asked) >= 0.8 * len(pilot.questions)  # the run covers most of the evaluation split
    for plan in plans:
        assert len(plan.source["questions"]) == 2
        languages = {pilot.by_id[q].language for q in plan.source["questions"]}
        assert languages == ({"en"} if plan.segment["language"] == "en" else {"fr"})


@pytest.mark.slow
def test_run_artifacts_are_the_router_card_and_a_shap_summary_plot(
    pilot: AssistantPilot, tmp_path: Path
) -> None:
    records = [pilot.run_session(p) for p in pilot.plans(12, seed=2)]
    paths = pilot.run_artifacts(records, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["assistant_router.json", "assistant_shap_summary.png"]
    assert (tmp_path / "assistant_shap_summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = json.loads((tmp_path / "assistant_router.json").read_text())
    assert card["features"] == list(FEATURES)
    assert not find_personal_data((tmp_path / "assistant_router.json").read_text())


def test_the_ranking_score_is_the_cosine_plus_weighted_word_overlap(pilot: AssistantPilot) -> None:
    assert pilot.retriever is not None and pilot.params.lexical_weight == 0.5
    hits = pilot.retriever.search("Quels papiers pour la carte d'accès à la déchetterie ?", 4)
    for hit in hits:
        assert hit.score == pytest.approx(hit.dense + 0.5 * hit.lexical, abs=2e-4)
        assert -1 <= hit.dense <= 1 and 0 <= hit.lexical <= 1
    assert hits[0].passage.id == "S25.1"  # the "Carte d'accès" section, not just the sheet
