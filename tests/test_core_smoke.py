from pathlib import Path

from stance.predictor import Predictor
from stance.registry import ModelStore


def test_tiny_artifact_round_trip(artifact_factory, tmp_path: Path) -> None:
    artifact_factory(tmp_path, "v1")
    store = ModelStore(tmp_path)
    store.set_current("v1")
    predictor = Predictor.load(store.current_path())
    [prediction] = predictor.predict(["Russia recognised the Taliban government. " * 20])
    assert set(prediction.scores) == {"supportive", "cautious", "opposed", "none"}
    assert abs(sum(prediction.scores.values()) - 1) < 1e-5
    assert prediction.truncated is True
    assert store.current_version() == "v1"
