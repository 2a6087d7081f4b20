"""Channel decisions over imported declarations, on both stores: which published rule
versions fire (one rule per condition type, amendments, retirement, named districts,
effective dates), risk-based document checks, the random share, and that a run channels
only declarations not yet decided. Decisions are read back from channel_decisions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from domain.errors import RuleViolationError
from domain.targeting_rule import RuleDefinition
from interfaces.analysis_composition import build_channel, build_risk_run, risk_tables
from tests.builders import FakeClock
from tests.integration.targeting_support import (
    ANALYST,
    SUPERVISOR,
    Entry,
    count_events,
    decisions,
    import_entries,
    import_rows,
    publish,
    register,
)

ACTOR = "system:channel"
SEVERITY = {"green": 0, "amber": 1, "red": 2}


def _risk_world(app: ComplianceCases, clock: FakeClock,
                folder: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Four scored importers (one with many discrepancies, one dominating value, one set
    to class d) and one registered after the risk run (no score)."""
    foot, steel, small, classy = register(app, [("11", "64"), ("12", "72"), ("11", "84"),
                                                ("13", "84")])
    values = {foot: 200_000, steel: 5_000_000, small: 10_000, classy: 20_000}
    import_rows(app, folder, IngestKind.TRADE, [
        [number, "2026-01", 5, 10, f"{value}.00", f"{value // 20}.00",
         {foot: "64", steel: "72"}.get(number, "84"), "CN"]
        for number, value in values.items()])
    samples: list[list[Any]] = []
    for number, lines, bad in ((foot, 20, 15), (steel, 400, 0), (small, 200, 0),
                              (classy, 200, 0)):
        chapter = {foot: "64", steel: "72"}.get(number, "84")
        for line in range(lines):
            found = line < bad
            samples.append([f"S{len(samples):06d}", 1, number, "2026-02-01",
                            f"{chapter}01000000", "CN", "1000.00", "random",
                            "true" if found else "false", "origin" if found else "",
                            "100.00" if found else "0"])
    import_rows(app, folder, IngestKind.SAMPLES, samples)
    clock.advance()
    app.set_compliance_class(classy, "d", actor=SUPERVISOR, reason="poor record")
    clock.advance()
    build_risk_run(app).assess(2026, actor="system:risk")
    late = register(app, [("11", "64")])[0]
    scores = {row["importer_number"]: row for row in risk_tables(app).all_scores()}
    assert set(scores) == {foot, steel, small, classy}
    return {"foot": foot, "steel": steel, "small": small, "classy": classy,
            "late": late}, scores


def _cross(importers: list[str], prefix: str, district: str = "11") -> list[Entry]:
    """Every importer x HS 6403/8471 x origin VN/CN x value 1,000/9,000."""
    entries: list[Entry] = []
    for importer in importers:
        for hs_code in ("6403990000", "8471300000"):
            for origin in ("VN", "CN"):
                for value in ("1000.00", "9000.00"):
                    entries.append(Entry(f"{prefix}{len(entries):05d}", importer,
                                         district=district, hs_code=hs_code, origin=origin,
                                         value=value))
    return entries


def test_a_rule_of_each_condition_type_fires_on_exactly_its_entries(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> None:
    people, scores = _risk_world(app, clock, tmp_path)
    assert {row["tier"] for row in scores.values()} >= {1, 4}
    assert scores[people["foot"]]["category"] == "high"
    assert scores[people["steel"]]["category"] != "high"
    ordered = sorted(float(row["score"]) for row in scores.values())
    threshold = round((ordered[1] + ordered[2]) / 2, 2)
    assert ordered[1] < threshold <= ordered[2]
    rules = {
        "hs": publish(app, clock, "Footwear uppers", {"hs_prefix": "6403"}, "red"),
        "origin": publish(app, clock, "Chinese goods", {"origin": ["CN"]}, "amber"),
        "tier": publish(app, clock, "Largest importers", {"tier": [1]}, "amber"),
        "class": publish(app, clock, "Class D traders", {"compliance_class": "d"}, "amber"),
        "category": publish(app, clock, "High risk", {"risk_category": "high"}, "red"),
        "score": publish(app, clock, "Top scores", {"min_risk_score": f"{threshold:.2f}"},
                         "amber"),
        "value": publish(app, clock, "Valuable", {"min_value": "5000"}, "amber"),
    }
    channels = {"hs": "red", "category": "red"}
    entries = _cross(list(people.values()), "D")
    import_entries(app, tmp_path, entries)
    clock.advance()
    summary = build_channel(app).decide(actor=ACTOR, random_share=0.0)

    assert summary.entries == len(entries) == 40
    assert summary.rule_versions == [f"{number}@v1" for number in rules.values()]
    found = decisions(app)
    assert set(found) == {entry.number for entry in entries}
    fired = dict.fromkeys(rules, 0)
    for entry in entries:
        score = scores.get(entry.importer)
        expected = {
            "hs": entry.hs_code.startswith("6403"),
            "origin": entry.origin == "CN",
            "tier": score is not None and score["tier"] == 1,
            "class": entry.importer == people["classy"],
            "category": score is not None and score["category"] == "high",
            "score": score is not None and float(score["score"]) >= threshold,
            "value": float(entry.value) >= 5000,
        }
        decision = found[entry.number]
        assert decision.rule_numbers == {rules[k] for k, hit in expected.items() if hit}, entry
        assert decision.rule_versions == {f"{rules[k]}@v1" for k, hit in expected.items()
                                          if hit}
        strongest = max((SEVERITY[channels.get(k, "amber")] for k, hit in expected.items()
                         if hit), default=0)
        assert SEVERITY[decision.targeted_channel] == strongest, entry
        assert decision.channel == decision.targeted_channel
        assert decision.basis == ("rule" if strongest else "none")
        for key, hit in expected.items():
            fired[key] += hit
    assert all(0 < count < len(entries) for count in fired.values()), fired
    late = [found[e.number] for e in entries if e.importer == people["late"]]
    assert late
    assert not any({rules["tier"], rules["category"], rules["score"]}
                            & d.rule_numbers for d in late)


def test_equal_entries_in_two_districts_get_the_same_targeted_channel(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> None:
    people, _scores = _risk_world(app, clock, tmp_path)
    publish(app, clock, "Footwear", {"hs_prefix": "64"}, "red")
    publish(app, clock, "Valuable Chinese goods", {"origin": "CN", "min_value": "5000"},
            "amber")
    here = _cross(list(people.values()), "H", district="11")
    there = _cross(list(people.values()), "T", district="30")
    import_entries(app, tmp_path, here + there)
    clock.advance()
    build_channel(app).decide(actor=ACTOR, random_share=0.3, seed=5)

    found = decisions(app)
    assert {found[e.number].targeted_channel for e in here} == {"green", "amber", "red"}
    assert {d.basis for d in found.values()} >= {"rule", "risk", "none", "random"}
    for a, b in zip(here, there, strict=True):
        assert (a.importer, a.hs_code, a.origin, a.value) == (b.importer, b.hs_code,
                                                              b.origin, b.value)
        mine, theirs = found[a.number], found[b.number]
        assert mine.targeted_channel == theirs.targeted_channel, (a, b)
        assert mine.rules == theirs.rules
    for decision in found.values():
        if decision.basis == "random":
            assert decision.channel == "red"
        else:
            assert decision.channel == decision.targeted_channel


def test_decisions_before_an_amendment_is_published_record_the_version_in_force(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> None:
    [importer] = register(app, [("11", "64")])
    rule = publish(app, clock, "Footwear", {"hs_prefix": "6403"}, "red")
    channel = build_channel(app)

    def batch(prefix: str) -> dict[str, Any]:
        import_entries(app, tmp_path, [
            Entry(f"{prefix}-1", importer, hs_code="6403990000", origin="VN"),
            Entry(f"{prefix}-2", importer, hs_code="8471300000", origin="CN")])
        clock.advance()
        summary = channel.decide(actor=ACTOR, random_share=0.0)
        found = decisions(app)
        return {"versions": summary.rule_versions,
                "footwear": (found[f"{prefix}-1"].rules, found[f"{prefix}-1"].targeted_channel),
                "chinese": (found[f"{prefix}-2"].rules, found[f"{prefix}-2"].targeted_channel)}

    assert batch("A") == {"versions": [f"{rule}@v1"], "footwear": (f"{rule}@v1", "red"),
                          "chinese": ("", "green")}
    clock.advance()
    app.amend_rule(rule, _definition_v2(), actor=ANALYST, reason="the pattern moved")
    assert batch("B") == {"versions": [f"{rule}@v1"], "footwear": (f"{rule}@v1", "red"),
                          "chinese": ("", "green")}
    clock.advance()
    app.approve_rule(rule, actor=SUPERVISOR, reason="reviewed v2")
    assert batch("C")["versions"] == [f"{rule}@v1"]
    clock.advance()
    app.publish_rule(rule, actor=SUPERVISOR, reason="v2 in force")
    assert batch("D") == {"versions": [f"{rule}@v2"], "footwear": ("", "green"),
                          "chinese": (f"{rule}@v2", "amber")}
    found = decisions(app)
    assert found["A-1"].rules == f"{rule}@v1"  # earlier decisions are never rewritten
    assert f"{rule} v2" in found["D-2"].reason


def _definition_v2() -> RuleDefinition:
    return RuleDefinition.parse(name="Chinese goods", conditions={"origin": "CN"},
                                channel="amber", effective_from="2026-01-01")


def test_a_retired_rule_no_longer_fires(app: ComplianceCases, clock: FakeClock,
                                        tmp_path: Path) -> None:
    [importer] = register(app, [("11", "64")])
    rule = publish(app, clock, "Footwear", {"hs_prefix": "6403"}, "red")
    channel = build_channel(app)
    import_entries(app, tmp_path, [Entry("R-1", importer, hs_code="6403990000")])
    clock.advance()
    channel.decide(actor=ACTOR, random_share=0.0)
    clock.advance()
    app.retire_rule(rule, actor=SUPERVISOR, reason="pattern gone")
    import_entries(app, tmp_path, [Entry("R-2", importer, hs_code="6403990000")])
    clock.advance()
    summary = channel.decide(actor=ACTOR, random_share=0.0)

    assert summary.rule_versions == []
    found = decisions(app)
    assert (found["R-1"].basis, found["R-1"].rules, found["R-1"].channel) == (
        "rule", f"{rule}@v1", "red")
    assert (found["R-2"].basis, found["R-2"].rules, found["R-2"].channel) == ("none", "", "green")


def test_a_rule_fires_only_in_its_districts_and_within_its_dates(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> None:
    [importer] = register(app, [("24", "85")])
    southern = publish(app, clock, "Telecom, southern ports", {"hs_prefix": "85"}, "red",
                       districts=("24", "26"))
    january = publish(app, clock, "January value check", {"min_value": "100"}, "amber",
                      effective_from="2026-01-01", effective_to="2026-01-31")
    entries = [Entry(f"P-{d}", importer, day="2026-02-10", district=d, hs_code="8517620000")
               for d in ("24", "26", "11", "42")]
    entries += [Entry(f"J-{i}", importer, day=day, district="11")
                for i, day in enumerate(("2025-12-31", "2026-01-01", "2026-01-31",
                                         "2026-02-01"))]
    import_entries(app, tmp_path, entries)
    clock.advance()
    build_channel(app).decide(actor=ACTOR, random_share=0.0)

    found = decisions(app)
    assert {d: found[f"P-{d}"].rules for d in ("24", "26", "11", "42")} == {
        "24": f"{southern}@v1", "26": f"{southern}@v1", "11": "", "42": ""}
    assert [found[f"P-{d}"].channel for d in ("24", "26", "11", "42")] == [
        "red", "red", "green", "green"]
    assert [found[f"J-{i}"].rules for i in range(4)] == ["", f"{january}@v1",
                                                        f"{january}@v1", ""]


def test_the_random_share_holds_within_its_binomial_interval(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> None:
    importers = register(app, [("11", "64"), ("12", "84")])
    publish(app, clock, "Footwear", {"hs_prefix": "64"}, "amber")
    count, share = 20_000, 0.05
    import_entries(app, tmp_path, [
        Entry(f"N{i:06d}", importers[i % 2], district=f"{1 + i % 42:02d}",
              hs_code="6403990000" if i % 3 == 0 else "8471300000")
        for i in range(count)])
    clock.advance()
    events = count_events(app)
    summary = build_channel(app).decide(actor=ACTOR, random_share=share, seed=2026)

    assert count_events(app) == events + 1  # one ChannelRun event for the whole run
    tables_rows = decisions(app)
    assert len(tables_rows) == summary.entries == count
    random = [d for d in tables_rows.values() if d.basis == "random"]
    mean, sd = count * share, math.sqrt(count * share * (1 - share))
    assert mean - 3 * sd <= len(random) <= mean + 3 * sd, len(random)
    assert summary.random_exams == summary.by_basis["random"] == len(random)
    assert all(d.channel == "red" and d.reason.startswith("chosen at random")
               for d in random)
    assert {d.targeted_channel for d in random} == {"green", "amber"}
    red = sum(1 for d in tables_rows.values() if d.channel == "red")
    assert summary.counts == {"green": sum(d.channel == "green" for d in tables_rows.values()),
                              "amber": sum(d.channel == "amber" for d in tables_rows.values()),
                              "red": red}
    assert red == len(random)


def test_a_second_run_channels_only_new_entries(app: ComplianceCases, clock: FakeClock,
                                                tmp_path: Path) -> None:
    [importer] = register(app, [("11", "64")])
    publish(app, clock, "Footwear", {"hs_prefix": "6403"}, "red")
    channel = build_channel(app)
    import_entries(app, tmp_path, [Entry(f"F-{i}", importer, hs_code="6403990000")
                                   for i in range(5)])
    clock.advance()
    first = channel.decide(actor=ACTOR, random_share=0.0)
    clock.advance()
    events = app.recorder.max_notification_id()
    with pytest.raises(RuleViolationError) as nothing_new:
        channel.decide(actor=ACTOR, random_share=0.0)
    assert nothing_new.value.rule == "NoNewDeclarationsToChannel"
    assert "no new declarations to channel" in str(nothing_new.value)
    assert app.recorder.max_notification_id() == events  # no empty run recorded
    import_entries(app, tmp_path, [Entry(f"G-{i}", importer) for i in range(3)])
    clock.advance()
    third = channel.decide(actor=ACTOR, random_share=0.0)

    assert (first.entries, third.entries) == (5, 3)
    assert first.run_id != third.run_id
    found = decisions(app)
    assert len(found) == 8
    assert {found[f"F-{i}"].run_id for i in range(5)} == {first.run_id}
    assert {found[f"G-{i}"].run_id for i in range(3)} == {third.run_id}


def test_every_decision_gives_its_reason(app: ComplianceCases, clock: FakeClock,
                                         tmp_path: Path) -> None:
    people, scores = _risk_world(app, clock, tmp_path)
    assert scores[people["foot"]]["category"] == "high"
    rule = publish(app, clock, "Chinese goods", {"origin": "CN"}, "amber")
    entries = _cross(list(people.values()), "W")
    import_entries(app, tmp_path, entries)
    clock.advance()
    build_channel(app).decide(actor=ACTOR, random_share=0.25, seed=1)

    found = decisions(app)
    assert {d.basis for d in found.values()} == {"rule", "risk", "none", "random"}
    for decision in found.values():
        assert decision.reason.strip()
        if decision.basis == "rule":
            assert decision.rule_numbers == {rule}
            assert f"rule {rule} v1 (Chinese goods: origin CN) -> amber" in decision.reason
        elif decision.basis == "risk":
            assert decision.importer_number == people["foot"]
            assert "risk" in decision.reason
            assert decision.targeted_channel == "amber"
        elif decision.basis == "random":
            assert "random" in decision.reason
            assert f"targeted channel {decision.targeted_channel}" in decision.reason
        else:
            assert decision.targeted_channel == "green"
            assert "no published rule or risk criterion matched" in decision.reason
