from pathlib import Path

import pytest

from training.cli import train_parser
from training.config import (
    DEFAULT_RECIPE,
    RECIPES,
    PipelineSettings,
    TrainConfig,
    config_fields,
    get_settings,
    member_configs,
    recipe_config,
    resolve_recipe,
)
from training.errors import TrainingError


def test_defaults_are_valid() -> None:
    config = TrainConfig()
    assert config.base_model == "all-mpnet-base-v2"
    assert config.max_steps == 0


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_every_recipe_is_a_valid_config(recipe: str) -> None:
    assert isinstance(recipe_config(recipe), TrainConfig)


def test_an_unknown_recipe_names_the_known_ones() -> None:
    known = "choose one of default, mpnet, minilm, fast, pair"
    with pytest.raises(TrainingError, match=f"unknown recipe 'huge': {known}"):
        recipe_config("huge")


def test_a_flag_overrides_the_recipe() -> None:
    from training.cli import config_from

    args = train_parser().parse_args(["--recipe", "fast", "--epochs", "4", "--no-int8"])
    config = config_from(args)
    assert (config.base_model, config.refit) == ("all-MiniLM-L6-v2", False)
    assert (config.epochs, config.int8) == (4, False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("learning_rate", 0.0),
        ("epochs", 0),
        ("batch_size", 0),
        ("max_length", 4),
        ("max_length", 1024),
        ("warmup_ratio", 1.0),
        ("weight_decay", -0.1),
        ("patience", 0),
        ("dev_fraction", 0.0),
        ("dev_fraction", 0.9),
        ("seed", -1),
        ("max_steps", -1),
        ("threads", -2),
        ("base_model", " "),
        ("device", "gpu"),
    ],
)
def test_invalid_value_names_the_field(field: str, value: object) -> None:
    with pytest.raises(TrainingError, match=field):
        TrainConfig(**{field: value})  # type: ignore[arg-type]


def test_auto_device_is_the_cpu_where_torch_sees_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)

    assert TrainConfig(device="auto").resolved_device() == "cpu"


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)

    with pytest.raises(TrainingError, match="torch sees no CUDA device"):
        TrainConfig(device="cuda").resolved_device()


def test_every_field_has_a_cli_flag_with_its_help() -> None:
    help_text = " ".join(train_parser().format_help().split())
    for name, _, _, description in config_fields():
        assert "--" + name.replace("_", "-") in help_text
        assert " ".join(description.split()) in help_text


def test_cli_flags_build_the_config() -> None:
    from training.cli import config_from

    flags = ["--recipe", "mpnet", "--learning-rate", "1e-4", "--no-class-weighting"]
    args = train_parser().parse_args(flags)
    config = config_from(args)
    assert config.learning_rate == 1e-4
    assert config.class_weighting is False
    assert config.epochs == TrainConfig().epochs


def test_settings_read_stance_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_PROMOTE_TOLERANCE", "0.05")
    monkeypatch.setenv("STANCE_MODELS_DIR", "elsewhere")
    get_settings.cache_clear()
    try:
        settings = get_settings()
    finally:
        get_settings.cache_clear()
    assert settings.promote_tolerance == 0.05
    assert settings.models_dir == Path("elsewhere")


def test_settings_reject_a_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="promote_tolerance"):
        PipelineSettings(promote_tolerance=-0.1)


def test_default_names_the_default_recipe() -> None:
    assert resolve_recipe("default") == DEFAULT_RECIPE


def test_a_pair_trains_the_fast_and_the_mpnet_recipe() -> None:
    members = member_configs("pair", seed=21)
    assert [name for name, _ in members] == ["fast", "mpnet"]
    assert [config.base_model for _, config in members] == ["all-MiniLM-L6-v2", "all-mpnet-base-v2"]
    assert {config.seed for _, config in members} == {21}


def test_a_one_model_recipe_is_one_member() -> None:
    assert member_configs("fast") == [("fast", recipe_config("fast"))]


def test_an_ensemble_recipe_is_not_one_config() -> None:
    with pytest.raises(TrainingError, match="'pair' is an ensemble of fast, mpnet"):
        recipe_config("pair")
