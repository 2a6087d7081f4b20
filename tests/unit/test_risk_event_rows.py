"""The two forms of a risk run's RiskAssessed events encode to the same stored bytes: the
rows the bulk path formats from the run's arrays and the event objects `save` takes, for
thousands of random importers (money, rates, counts, labels, explanations, and the values
whose formatting is delicate: ties, tiny and huge amounts, negative zero, non-finite), by
either of the mapper's encodings (a dict of the fields, or their values in a struct)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

import numpy as np
import pytest

from application.risk.risk_events import (
    AssessedFigures,
    AssessedRows,
    Targets,
    _texts,
    assessed_events,
)
from domain.base import ID_NAMESPACE, natural_id
from domain.importer_account import ImporterAccount
from domain.risk_scoring import Factor, RiskInputs, RiskScores
from infrastructure.hash_chain import GENESIS
from infrastructure.mapper import MsgspecMapper, MsgspecTranscoder

DELICATE = [0.0, -0.0, 0.125, 2.675, 0.005, 1.005, -0.005, 1e-7, -1e-7, 5e-7, 12.5e-6, 0.285,
            1234567.125, 0.5, 1.5, 2.5, 1e15, 1e20, 1.7e308, -1.7e308, 4.35, 0.1 + 0.2]


def _mapper() -> MsgspecMapper:
    return MsgspecMapper(transcoder=MsgspecTranscoder())


@pytest.mark.parametrize("places", [2, 6])
def test_texts_are_what_the_mapper_stores_for_the_rounded_decimals(places: int) -> None:
    rng = np.random.default_rng(places)
    values = np.concatenate([
        np.array([*DELICATE, np.nan, np.inf, -np.inf]),
        rng.random(20_000) * 1e6, -rng.random(5_000),
        rng.random(5_000) * 10.0 ** rng.integers(-12, 20, 5_000),
        (rng.integers(0, 10**9, 5_000) + 0.5) / 10**places])
    encode = _mapper().encode_state
    texts = _texts(values, places)
    for value, text in zip(values.tolist(), texts, strict=True):
        wanted = encode(object, {"x": Decimal(f"{value:.{places}f}")})
        assert encode(object, {"x": text}) == wanted, value


def _figures(count: int, seed: int) -> AssessedFigures:
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)

    def money() -> np.ndarray:
        values = rng.random(count) * 10.0 ** rng.integers(0, 9, count)
        values[: len(DELICATE)] = DELICATE[:count]
        return values

    inputs = RiskInputs(
        annual_value=money(), discrepancy_rate=rng.random(count),
        compliance_low=rng.random(count), compliance_high=rng.random(count),
        loss_ratio=rng.random(count), tier=rng.integers(1, 5, count).astype(np.int8),
        industry=["64"] * count, findings=np.zeros(count, np.int64),
        enforcement=np.zeros(count, np.int64), trusted_trader=np.zeros(count, bool),
        self_assessment=np.zeros(count, bool), compliance_class=[None] * count)
    scores = RiskScores(money(), money(), money(), rng.integers(0, 4, count).astype(np.int8),
                        rng.integers(0, 4, count).astype(np.int8), {})
    factors = [Factor("primary focus industry", "64", 1.25),
               Factor("compliance class", 'class "d"', pick.random() * 2),
               Factor("trusted trader", "since 2019", 0.5)]
    explanations = {i: pick.sample(factors, pick.randint(0, 3)) for i in range(count)}
    return AssessedFigures(
        datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC), "system:risk", 2025,
        (uuid4(), uuid4()), inputs, scores, rng.random(count), rng.random(count),
        rng.random(count), rng.random(count), rng.integers(0, 500, count),
        rng.integers(0, 50, count), explanations)


def test_the_rows_encode_to_the_bytes_of_the_event_objects() -> None:
    count = 3_000
    figures = _figures(count, seed=11)
    positions = sorted(random.Random(3).sample(range(count), 2_500))
    targets = Targets(positions, [uuid4() for _ in positions],
                      [random.Random(i).randint(2, 9) for i in positions])
    mapper = _mapper()
    order = mapper.state_fields(ImporterAccount.RiskAssessed)
    encode = mapper.row_encoder(ImporterAccount.RiskAssessed)
    objects = assessed_events(figures, targets)
    rows = AssessedRows(figures, targets, order)

    assert len(rows) == len(objects) == len(positions)
    for row, event in zip(rows, objects, strict=True):
        account_id, version, values = row
        assert isinstance(values, tuple)
        assert (account_id, version) == (event.originator_id, event.originator_version)
        wanted = mapper.to_stored_event(event, prev_hash=GENESIS).state
        assert encode(values, GENESIS) == wanted
        fields = dict(zip(order, values, strict=True))
        assert mapper.encode_state(ImporterAccount.RiskAssessed, fields, GENESIS) == wanted
    seventh = rows[7][2]
    assert isinstance(seventh, tuple)
    assert seventh[order.index("score")] == str(objects[7].score)  # random access


def test_natural_ids_are_uuid5_of_the_kind_and_key() -> None:
    for key in ("12-3456789AB", "", "é€ key", "x" * 300):
        assert natural_id("importer", key) == uuid5(ID_NAMESPACE, f"importer:{key}")
        assert isinstance(natural_id("risk-run", key), UUID)
