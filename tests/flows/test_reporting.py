from flows.model import AnalysisRecord, Phase, Rollout, Verdict, utcnow
from flows.reporting import report_markdown
from flows.spec import RolloutSpec


def test_the_report_lists_every_transition_and_analysis_as_tables():
    r = Rollout(spec=RolloutSpec(app="shop", version="v2"), from_version="v1")
    r = r.transition(Phase.VALIDATING, "validation started")
    r = r.with_updates(analyses=[AnalysisRecord(
        at=utcnow(), step=0, weight=5, verdict=Verdict.FAIL, reason="error rate 30% | worse",
        candidate={"requests": 120.0, "error_rate": 0.3, "p95_seconds": 0.012},
    )])  # fmt: skip
    text = report_markdown(r)
    assert text.startswith("# shop: v1 → v2")
    assert "| Pending | Validating | 0 | validation started |" in text
    assert "| 0 | 5% | Fail | 120 | 30.0% | 12 ms | error rate 30% \\| worse |" in text


def test_missing_measurements_are_dashes():
    r = Rollout(spec=RolloutSpec(app="shop", version="v2")).with_updates(analyses=[
        AnalysisRecord(at=utcnow(), step=0, weight=5, verdict=Verdict.ERROR, reason="down")])
    assert "| Error | - | - | - | down |" in report_markdown(r)
