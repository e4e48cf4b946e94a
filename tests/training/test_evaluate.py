import numpy as np
import pytest

from stance.labels import Example
from training.evaluate import (
    baseline_metrics,
    calibrate,
    classification_metrics,
    confusion_text,
    expected_calibration_error,
    fit_temperature,
    softmax,
)

LABELS = ["supportive", "cautious", "opposed"]


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    probabilities = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert expected_calibration_error(probabilities, [0, 1]) == 0.0


def test_ece_of_confident_mistakes_is_their_confidence() -> None:
    probabilities = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05]])
    assert expected_calibration_error(probabilities, [1, 2]) == pytest.approx(0.9)


def test_temperature_cools_overconfident_logits() -> None:
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 3, size=300)
    logits = rng.normal(size=(300, 3))
    logits[np.arange(300), targets] += 1.0
    assert fit_temperature(logits * 8, targets.tolist()) > 2.0


def test_calibration_keeps_temperature_one_when_it_does_not_help() -> None:
    logits = np.array([[20.0, 0.0, 0.0], [0.0, 20.0, 0.0], [0.0, 0.0, 20.0]])
    calibration = calibrate(logits, [0, 1, 2])
    assert calibration.temperature == 1.0
    assert calibration.as_dict()["kept"] is False


def test_metrics_report_every_class() -> None:
    probabilities = softmax(np.eye(3)[[0, 1, 2, 2]] * 5)
    metrics = classification_metrics([0, 1, 2, 1], probabilities, LABELS)
    assert metrics["accuracy"] == 0.75
    assert metrics["per_class"]["cautious"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert metrics["cautious_f1"] == metrics["per_class"]["cautious"]["f1"]
    assert metrics["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_metrics_are_also_given_per_label_file() -> None:
    probabilities = softmax(np.eye(3)[[0, 1, 2, 2]] * 5)
    files = ["b.jsonl", "a.jsonl", "b.jsonl", "a.jsonl"]
    by_file = classification_metrics([0, 1, 2, 1], probabilities, LABELS, files)["by_file"]
    assert list(by_file) == ["a.jsonl", "b.jsonl"]
    assert by_file["a.jsonl"]["n"] == 2
    assert by_file["a.jsonl"]["accuracy"] == 0.5
    assert by_file["b.jsonl"]["accuracy"] == 1.0


def test_metrics_without_files_have_no_breakdown() -> None:
    probabilities = softmax(np.eye(3)[[0, 1, 2]] * 5)
    assert "by_file" not in classification_metrics([0, 1, 2], probabilities, LABELS)


def test_baseline_learns_separable_words() -> None:
    words = {"supportive": "welcomed", "cautious": "hesitated", "opposed": "condemned"}
    train = [Example(f"{who} {words[label]} it", label) for label in LABELS for who in "abcdef"]
    test = [Example(f"g {words[label]} it", label) for label in LABELS]
    assert baseline_metrics(train, test, LABELS, seed=0)["macro_f1"] == 1.0


def test_confusion_text_has_a_row_per_label() -> None:
    lines = confusion_text([[1, 0, 0], [0, 2, 0], [0, 0, 3]], LABELS).splitlines()
    assert lines[0].split()[-3:] == LABELS
    assert lines[2].split() == ["cautious", "0", "2", "0"]


FOUR = ["supportive", "cautious", "opposed", "none"]


def one_hot(predicted: list[int], n: int = 4) -> np.ndarray:
    return np.eye(n)[predicted]


def test_with_none_the_headline_is_stance_macro_f1_on_stance_sentences() -> None:
    truth = [0, 1, 2, 3, 3]
    predicted = [0, 1, 3, 3, 0]

    metrics = classification_metrics(truth, one_hot(predicted), FOUR)

    assert metrics["n_stance"] == 3
    assert metrics["macro_f1"] == pytest.approx((1 + 1 + 0) / 3)
    assert metrics["stance_lost_to_none"] == pytest.approx(1 / 3)
    assert (metrics["none_precision"], metrics["none_recall"]) == (0.5, 0.5)
    assert metrics["four_label_macro_f1"] == pytest.approx((2 / 3 + 1 + 0 + 0.5) / 4)


def test_without_none_the_headline_is_plain_macro_f1() -> None:
    metrics = classification_metrics([0, 1, 2], one_hot([0, 1, 1], 3), LABELS)

    assert "none_recall" not in metrics
    assert metrics["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
