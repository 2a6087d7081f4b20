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
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from eventsourcing.utils import get_topic

from application.risk.fixed_texts import fixed_texts
from application.risk.risk_events import (
    CHUNK,
    AssessedFigures,
    AssessedRows,
    Targets,
    _texts,
    assessed_events,
)
from domain.base import ID_NAMESPACE, natural_id
from domain.importer_account import ImporterAccount
from domain.risk_scoring import Adjustments, Factor, RiskInputs, RiskScores
from infrastructure.account_directory import (
    REGISTERED,
    RegisteredImporter,
    registration_hashes,
)
from infrastructure.column_events import (
    PLAIN_PATTERN,
    all_plain,
    column_hashes,
    column_states,
    uuid_texts,
)
from infrastructure.hash_chain import GENESIS, content_hash, event_hash, with_signature
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


def _figures(count: int, seed: int, quoted: str = 'class "d"') -> AssessedFigures:
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
               Factor("compliance class", quoted, pick.random() * 2),
               Factor("trusted trader", "since 2019", 0.5)]
    explanations = Adjustments.of({i: pick.sample(factors, pick.randint(0, 3))
                                   for i in range(count)})
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


@pytest.mark.parametrize("text", ['class "d"', "class d", "classe é", "a/b <c> & 'd' ~",
                                  "tab\there", "back\\slash"])
def test_the_column_chunks_encode_to_the_bytes_of_the_event_objects(text: str) -> None:
    """The bulk path's column-wise encoding (infrastructure.column_events) of the run's
    column chunks, linked and hashed, against the mapper's encoding of each event object:
    texts that need no escaping joined as they are, the others encoded one by one."""
    count = 3_000
    figures = _figures(count, seed=12, quoted=text)
    positions = sorted(random.Random(4).sample(range(count), 2_600))
    targets = Targets(positions, [uuid4() for _ in positions],
                      [random.Random(i).randint(1, 9) for i in positions])
    mapper = _mapper()
    order = mapper.state_fields(ImporterAccount.RiskAssessed)
    objects = iter(assessed_events(figures, targets))
    chunks = list(AssessedRows(figures, targets, order).column_chunks())
    assert sum(len(chunk) for chunk in chunks) == len(positions)
    assert len(chunks) > 1 or len(positions) <= CHUNK
    topic = get_topic(ImporterAccount.RiskAssessed)
    for chunk in chunks:
        prevs = [f"{i:064x}" for i in range(len(chunk))]
        joined = column_states(chunk, order, prevs)
        states = joined.to_pylist()
        hashes = column_hashes(topic, uuid_texts(chunk.originator_ids), chunk.versions,
                               joined)
        for k, (state, digest) in enumerate(zip(states, hashes, strict=True)):
            event = next(objects)
            assert (chunk.originator_ids[k], chunk.versions[k]) == (
                event.originator_id, event.originator_version)
            assert state == mapper.to_stored_event(event, prev_hash=prevs[k]).state
            assert digest == content_hash(topic, event.originator_id,
                                          event.originator_version, state)


def test_fixed_texts_are_pythons_own() -> None:
    rng = np.random.default_rng(5)
    for places in (2, 6):
        values = np.concatenate([
            np.array([*DELICATE, np.nan, np.inf, -np.inf]), rng.random(20_000) * 1e6,
            -rng.random(5_000), rng.random(5_000) * 10.0 ** rng.integers(-12, 20, 5_000),
            (rng.integers(0, 10**9, 5_000) + 0.5) / 10**places,
            rng.integers(0, 10**9, 5_000) / 10**places])
        assert fixed_texts(values, places).to_pylist() == _texts(values, places)


def test_uuid_texts_are_their_strings() -> None:
    ids = [uuid4() for _ in range(1_000)] + [UUID(int=0), UUID(int=2**128 - 1)]
    assert uuid_texts(ids).to_pylist() == [str(each) for each in ids]


def test_registration_heads_hashed_column_wise_are_event_hashes() -> None:
    """A first run links every event to its account's Registered event: those hashes,
    made column-wise, are hash_chain.event_hash's, for a state that closes a signed
    commit too (hashed without its signature)."""
    mapper = _mapper()
    accounts = []
    for i in range(50):
        state = mapper.encode_state(object, {"importer_number": f"60-{i:09d}", "n": i},
                                    GENESIS)
        if i % 7 == 3:
            state = with_signature(state, 1000, bytes(range(64)))
        accounts.append(RegisteredImporter(uuid4(), None, state))  # type: ignore[arg-type]
    wanted = [event_hash(REGISTERED, found.account_id, 1, found.state) for found in accounts]
    assert registration_hashes(accounts) == wanted
    assert len(set(wanted)) == len(wanted)


def test_plain_texts_are_those_the_pattern_matches() -> None:
    """all_plain, tested byte by byte, answers as the pattern does for each text: for
    arrays, slices of them (their data starts past the first text) and chunked arrays."""
    rng = random.Random(17)
    alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["é", "\n", "\x00", "\x7f", "€"]
    for _ in range(300):
        texts = ["".join(rng.choice(alphabet) if rng.random() < 0.02
                         else rng.choice("0123456789.-ab ") for _ in range(rng.randint(0, 9)))
                 for _ in range(rng.randint(0, 40))]
        array = pa.array(texts, pa.string())
        start = rng.randint(0, len(texts))
        for values in (array, array.slice(start), pa.chunked_array([array, array.slice(start)])):
            matched = pc.match_substring_regex(values, PLAIN_PATTERN).to_pylist()
            assert all_plain(values) == all(matched), texts
    assert not all_plain(pa.array(["1.00", None], pa.string()))
    assert all_plain(pa.array(["", ""], pa.string()))
