"""The retraining settings: STANCE_RETRAIN_ARGS as shell words, and flags the service owns."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.config import Settings


def test_retrain_args_are_split_like_a_shell_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_RETRAIN_ARGS", "--epochs 2 --base-model '/opt/my model'")

    assert Settings().retrain_args == ["--epochs", "2", "--base-model", "/opt/my model"]


def test_retrain_args_may_not_set_what_the_service_sets() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(retrain_args="--epochs 2 --models-dir=/tmp/elsewhere")

    assert error.value.errors()[0]["msg"] == (
        "Value error, --models-dir=/tmp/elsewhere cannot be set here: the service sets the "
        "labels and models dirs and the result file, and a retrain must train a version"
    )
