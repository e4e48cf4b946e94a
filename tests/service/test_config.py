"""Settings: defaults, environment variables, validation and the CPU quota."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service import config
from service.cli import main
from service.config import Settings, cgroup_cpu_limit, cpu_quota, get_settings


def test_defaults() -> None:
    settings = Settings()

    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert (settings.max_chars, settings.max_batch) == (10_000, 256)
    assert settings.models_dir == Path("models")
    assert settings.admin_token is None


def test_every_setting_reads_its_stance_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_PORT", "9001")
    monkeypatch.setenv("STANCE_MODELS_DIR", "/srv/models")
    monkeypatch.setenv("STANCE_ADMIN_TOKEN", "s3cret")
    monkeypatch.setenv("STANCE_LOG_LEVEL", "WARNING")

    settings = Settings()

    assert settings.port == 9001
    assert settings.models_dir == Path("/srv/models")
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret"
    assert settings.log_level == "warning"


def test_a_blank_admin_token_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_ADMIN_TOKEN", "  ")

    assert Settings().admin_token is None


def test_the_admin_token_is_not_shown_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_ADMIN_TOKEN", "s3cret")

    assert "s3cret" not in repr(Settings())


def test_a_body_limit_too_small_for_a_full_batch_is_refused() -> None:
    with pytest.raises(ValidationError, match="so that a full batch fits"):
        Settings(max_batch=100, max_chars=1000, max_body_bytes=50_000)


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"precision": "fp16"})


def test_the_service_runs_int8_by_default() -> None:
    assert Settings().precision == "int8"


def test_get_settings_is_read_once() -> None:
    get_settings.cache_clear()

    assert get_settings() is get_settings()
    get_settings.cache_clear()


def test_threads_default_to_the_cpu_quota() -> None:
    assert Settings().threads == cpu_quota()


def test_cgroup_v2_quota_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    monkeypatch.setattr(config, "CGROUP_V2_CPU_MAX", tmp_path / "cpu.max")

    assert cgroup_cpu_limit() == 1.5


def test_cgroup_v2_without_a_quota_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    monkeypatch.setattr(config, "CGROUP_V2_CPU_MAX", tmp_path / "cpu.max")

    assert cgroup_cpu_limit() is None


def test_cgroup_v1_quota_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "quota").write_text("50000\n")
    (tmp_path / "period").write_text("100000\n")
    monkeypatch.setattr(config, "CGROUP_V2_CPU_MAX", tmp_path / "absent")
    monkeypatch.setattr(config, "CGROUP_V1_QUOTA", tmp_path / "quota")
    monkeypatch.setattr(config, "CGROUP_V1_PERIOD", tmp_path / "period")

    assert cgroup_cpu_limit() == 0.5


def test_a_fractional_quota_rounds_up_to_whole_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "cgroup_cpu_limit", lambda: 0.5)

    assert cpu_quota() == 1


def test_stance_serve_with_a_bad_setting_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STANCE_PORT", "eighty")
    get_settings.cache_clear()

    with pytest.raises(SystemExit) as exit_info:
        main([])

    get_settings.cache_clear()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "stance-serve: invalid setting STANCE_PORT: "
        "Input should be a valid integer, unable to parse string as an integer\n"
    )
