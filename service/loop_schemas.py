"""Bodies of the labelling and retraining routes: /labels, /suggest and /admin/{retrain,jobs,
rollback,versions}, with the examples shown at ``/docs``.

The examples of ``POST /labels`` are checked one by one by the corpus validator
(``stance.labels.parse_record``) rather than by this schema, so that one bad example is
reported beside the others instead of failing the whole request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StrictBool
from pydantic_core import PydanticCustomError

from service.schemas import EXAMPLE_SCORES, EXAMPLE_TEXTS, EXAMPLE_VERSION, Text
from stance.labels import LABELS

MAX_LABELS_PER_REQUEST = 500
MAX_SUGGESTIONS = 500
EXAMPLE_JOB_ID = "3f9c2a7d41be"
EXAMPLE_NEW_VERSION = "20250102T090000Z-1a2b3c4d"

LABEL_EXAMPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One labelled sentence, checked like the label files are.",
    "properties": {
        "text": {"type": "string", "description": "One sentence, as it stands in the news."},
        "label": {"type": "string", "enum": list(LABELS)},
        "actor": {"type": "string", "description": "Who holds the stance."},
        "source": {"type": "string", "description": "Where the sentence comes from."},
    },
    "required": ["text", "label"],
    "additionalProperties": False,
}
EXAMPLE_LABEL: dict[str, JsonValue] = {
    "text": "Tashkent said it would not rush to recognise the Taliban.",
    "label": "cautious",
    "actor": "Uzbekistan",
    "source": "api",
}


def a_list(value: object) -> object:
    if not isinstance(value, list):
        raise PydanticCustomError(
            "examples_type", "must be a list of objects with 'text' and 'label'"
        )
    return value


LabelStatus = Literal["added", "duplicate", "conflict", "invalid"]
JobStateName = Literal["queued", "running", "succeeded", "failed", "refused"]


class LabelsRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"examples": [EXAMPLE_LABEL]}]}
    )

    examples: Annotated[list[JsonValue], BeforeValidator(a_list)] = Field(
        description=f"1 to {MAX_LABELS_PER_REQUEST} labelled sentences.",
        json_schema_extra={
            "items": LABEL_EXAMPLE_SCHEMA,
            "minItems": 1,
            "maxItems": MAX_LABELS_PER_REQUEST,
        },
    )


class LabelResult(BaseModel):
    status: LabelStatus = Field(
        description="added: appended to the corpus; duplicate: already there with this label; "
        "conflict: already there with another label; invalid: refused, see message."
    )
    message: str = Field(examples=["duplicate of an existing example labelled 'opposed'"])
    existing_label: str | None = Field(
        default=None, description="The label of the example it duplicates or conflicts with."
    )
    existing_text: str | None = Field(
        default=None, description="The text of the example it duplicates or conflicts with."
    )


class LabelsResponse(BaseModel):
    results: list[LabelResult] = Field(description="One result per example, in input order.")
    counts: dict[LabelStatus, int] = Field(
        examples=[{"added": 1, "duplicate": 0, "conflict": 0, "invalid": 0}]
    )


class LabelCounts(BaseModel):
    counts: dict[str, int] = Field(
        description="Examples per label in the corpus, the labels sent here included.",
        examples=[{"supportive": 1096, "cautious": 991, "opposed": 988, "none": 1550}],
    )
    total: int = Field(examples=[4625])


def not_a_bool(value: object) -> object:
    """JSON's true is not a count (pydantic would read it as 1)."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


class SuggestRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"texts": EXAMPLE_TEXTS, "k": 1}]}
    )

    texts: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="Sentences to rank. Left out: the seed pool, minus what is labelled.",
    )
    k: Annotated[int, BeforeValidator(not_a_bool)] = Field(
        default=10, ge=1, le=MAX_SUGGESTIONS, description="How many to return."
    )
    include_none: StrictBool = Field(
        default=False,
        description="Also suggest sentences the model is sure (none score >= 0.9) take no stance.",
    )


class Suggestion(BaseModel):
    text: str
    label: str = Field(description="The model's current guess.", examples=["cautious"])
    margin: float = Field(
        description="Top score minus the runner-up: the smaller, the less sure the model.",
        examples=[0.04],
    )
    scores: dict[str, float] = Field(examples=[EXAMPLE_SCORES])


class SuggestResponse(BaseModel):
    suggestions: list[Suggestion] = Field(description="Least certain first.")
    model_version: str = Field(examples=[EXAMPLE_VERSION])
    ranked: int = Field(description="How many unlabelled texts were ranked.")
    skipped_labelled: int = Field(description="Texts left out: already labelled (or nearly).")
    skipped_repeated: int = Field(description="Texts left out: repeats of another in the pool.")


class JobProgress(BaseModel):
    stage: Literal["training", "refitting", "saved", "decided"] = Field(
        description="training (early stopping on dev), refitting (the chosen number of epochs "
        "again on train + dev), then saved (evaluated and written), then decided (promotion)."
    )
    epoch: int | None = Field(default=None, description="Last finished epoch.")
    max_epochs: int | None = Field(default=None, description="Epochs planned (early stop aside).")
    steps: int | None = Field(default=None, description="Optimiser steps done, at epoch ends.")
    total_steps: int | None = Field(default=None, description="Optimiser steps planned.")
    loss: float | None = Field(default=None, description="Mean training loss of the last epoch.")
    dev_macro_f1: float | None = Field(default=None, description="Dev macro-F1 after it.")
    member: str | None = Field(
        default=None,
        description="An ensemble's member being trained (its recipe); the figures above are "
        "its own, and start again with each member. Null for a one-model version.",
    )
    member_number: int | None = Field(default=None, description="Which member it is, from 1.")
    members: int | None = Field(default=None, description="How many members the version has.")


class JobStatus(BaseModel):
    id: str = Field(examples=[EXAMPLE_JOB_ID])
    state: JobStateName = Field(
        description="queued, running, then succeeded (new version served), refused (by the "
        "promotion gate: nothing changed) or failed (nothing changed; see error)."
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = Field(default=None, description="stance-train's exit code.")
    progress: JobProgress | None = Field(
        default=None,
        description="Null until stance-train has printed its config (or, for an "
        "ensemble, which member it trains first).",
    )
    log: list[str] = Field(description="The last lines stance-train printed.")
    version: str | None = Field(default=None, examples=[EXAMPLE_NEW_VERSION])
    promoted: bool | None = Field(default=None, description="The promotion gate's decision.")
    reason: str | None = Field(
        default=None,
        description="Why it was (not) promoted.",
        examples=["test macro-F1 0.8312 vs current 20250101-120000's 0.8101, within tolerance"],
    )
    test_metrics: dict[str, float] = Field(
        default_factory=dict, examples=[{"macro_f1": 0.83, "accuracy": 0.84}]
    )
    serving: str | None = Field(
        default=None, description="The version the service served when the job ended."
    )
    error: str | None = Field(default=None, description="Why the job failed.")


class RollbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"version": EXAMPLE_VERSION}]}
    )

    version: str = Field(
        min_length=1, description="A version from GET /admin/versions to serve again."
    )


class RollbackResponse(BaseModel):
    model_version: str = Field(description="The version now current and served.")
    previous_version: str | None = Field(description="The version current pointed at before.")


class VersionSummary(BaseModel):
    version: str = Field(examples=[EXAMPLE_VERSION])
    current: bool = Field(description="models/current points at it.")
    serving: bool = Field(description="This service answers with it.")
    created_at: str | None = None
    labels_hash: str | None = None
    test_macro_f1: float | None = None
    test_metrics: dict[str, float] = Field(
        default_factory=dict,
        description="Its test-split figures (the numbers of metadata.json's metrics).",
        examples=[{"macro_f1": 0.83, "accuracy": 0.84}],
    )
    error: str | None = Field(default=None, description="Why it cannot be read, if it cannot.")
