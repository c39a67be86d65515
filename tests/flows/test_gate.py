from flows.gate import GateDecision


def test_the_resume_form_offers_promote_promote_full_and_abort():
    schema = GateDecision.model_json_schema()
    assert schema["properties"]["decision"]["enum"] == ["promote", "promote-full", "abort"]
    assert GateDecision().decision == "promote"
