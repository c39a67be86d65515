import pytest
from pydantic import ValidationError

from flows.cli.errors import BAD_INPUT, describe_validation_error, exit_code_for
from flows.cli.options import build_spec, parse_env, parse_steps
from flows.errors import BadInput
from flows.spec import Strategy

DEFAULTS = dict(
    app="fraud-api", version="v2", strategy=Strategy.CANARY, env=[], steps=None,
    step_interval=None, replicas=None, batch_size=None, min_healthy=None, keep_previous=None,
    pause_before_promote=False, requires=[], required_config=[], migration_check=None,
    health_retries=None, health_delay=None, health_path=None, analysis_window=None,
    min_requests=None,
)  # fmt: skip


def spec(**overrides):
    return build_spec(**{**DEFAULTS, **overrides})


def test_defaults_are_the_documented_ones():
    s = spec()
    assert s.steps == [5, 10, 50, 100]
    assert s.health.retries == 5
    assert s.health.retry_delay_seconds == 10
    assert s.analysis.max_error_rate == 0.05


def test_options_reach_the_spec():
    s = spec(
        env=["FAULT_ERROR_RATE=0.3", "URL=a=b", "EMPTY="], steps="5, 20,100", step_interval="2",
        health_retries=1, health_delay=0.1, analysis_window=5, min_requests=3, p95_tolerance=0.2,
        requires=["payments>=2.3"], migration_check="alembic check --sql",
    )  # fmt: skip
    assert s.env == {"FAULT_ERROR_RATE": "0.3", "URL": "a=b", "EMPTY": ""}
    assert s.steps == [5, 20, 100]
    assert s.step_interval_seconds == 2
    assert s.health.retries == 1
    assert s.analysis.window_seconds == 5
    assert s.analysis.min_requests == 3
    assert s.analysis.p95_tolerance_seconds == 0.2
    assert spec().analysis.p95_tolerance_seconds == 0.025  # not given: the policy's default
    assert s.validation.requires == ["payments>=2.3"]
    assert s.validation.migration_check == ["alembic", "check", "--sql"]


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", ""])
def test_malformed_env_names_the_option(pair):
    with pytest.raises(BadInput, match="--env"):
        parse_env([pair])


def test_bad_env_key_names_the_option():
    with pytest.raises(ValidationError) as info:
        spec(env=["1BAD=x"])
    assert describe_validation_error(info.value).startswith("--env")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("5,x,100", "comma-separated integers"),
        ("50,10,100", "increase strictly"),
        ("5,10,50", "last step must be 100"),
        ("0,100", "1..100"),
        ("5,150", "1..100"),
    ],
)
def test_bad_weights_are_refused_with_the_option_named(steps, message):
    with pytest.raises((BadInput, ValidationError)) as info:
        spec(steps=steps)
    code, text = exit_code_for(info.value)
    assert code == BAD_INPUT
    assert message in text
    if isinstance(info.value, ValidationError):
        assert text.startswith("--steps")


def test_parse_steps():
    assert parse_steps("5,10,50,100") == [5, 10, 50, 100]


@pytest.mark.parametrize(
    ("field", "value", "option"),
    [
        ("app", "Bad_App", "APP"),
        ("version", "v 2", "VERSION"),
        ("step_interval", "-1", "--step-interval"),
        ("batch_size", 0, "--batch-size"),
        ("health_retries", -1, "--health-*"),
    ],
)
def test_validation_errors_name_the_option(field, value, option):
    with pytest.raises(ValidationError) as info:
        spec(**{field: value})
    code, text = exit_code_for(info.value)
    assert code == BAD_INPUT
    assert text.startswith(option)


def test_min_healthy_above_replicas_is_refused():
    with pytest.raises(ValidationError, match="cannot exceed replicas"):
        spec(strategy=Strategy.ROLLING, replicas=2, min_healthy=3)


def test_alert_rules_command_prints_what_promtool_accepts(tmp_path):
    import shutil
    import subprocess

    from typer.testing import CliRunner

    from flows.cli import cli

    result = CliRunner().invoke(cli, ["alert-rules"])
    assert result.exit_code == 0
    rules = tmp_path / "rules.yml"
    rules.write_text(result.output)
    promtool = shutil.which("promtool")
    assert promtool, "promtool comes with Debian's prometheus package (scripts/setup.sh)"
    check = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 6 rules found" in check.stdout


def test_one_dwell_per_step():
    s = spec(steps="5,50,100", step_interval="30,60,120")
    assert s.step_intervals_seconds == [30, 60, 120]
    assert [s.dwell(i) for i in range(3)] == [30, 60, 120]
    assert spec(step_interval="45").dwell(2) == 45


@pytest.mark.parametrize(
    ("value", "message"),
    [("30,60", "2 values for 4 steps"), ("fast", "--step-interval 'fast'"), ("30,-1,5,5", "")],
)
def test_bad_dwells_name_the_option(value, message):
    with pytest.raises((BadInput, ValidationError)) as info:
        spec(step_interval=value)
    code, text = exit_code_for(info.value)
    assert code == BAD_INPUT
    assert text.startswith("--step-interval")
    assert message in text
