"""Request and response bodies of ``POST /analyze``: whole articles in, sentences and a
summary by actor out."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.schemas import EXAMPLE_SCORES, EXAMPLE_VERSION, PredictionResult, Text

EXAMPLE_ARTICLE = (
    "KABUL, July 3 (Reuters) - Russia became the first country to formally recognise the "
    "Taliban government. Tashkent said it was in no hurry to follow. The weather was mild."
)


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="Your id for the article.")
    text: Text = Field(description="The article.")


def exactly_one_of_text_or_documents(schema: dict[str, Any]) -> None:
    """What the validator enforces, in the schema: one of the two, and neither may be null."""
    for name in ("text", "documents"):
        field = schema["properties"][name]
        field.update(next(branch for branch in field.pop("anyOf") if branch != {"type": "null"}))
        field.pop("default", None)
    schema["oneOf"] = [{"required": ["text"]}, {"required": ["documents"]}]
    schema["examples"] = [
        {"text": EXAMPLE_ARTICLE},
        {"documents": [{"id": "a1", "text": EXAMPLE_ARTICLE}]},
    ]


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=exactly_one_of_text_or_documents)

    text: Text | None = Field(default=None, description="One article.")
    documents: list[Document] | None = Field(
        default=None, min_length=1, description="Several articles, each with an id."
    )

    @model_validator(mode="after")
    def one_of_text_or_documents(self) -> Self:
        if (self.text is None) == (self.documents is None):
            raise ValueError("send either 'text' (one article) or 'documents' (several), not both")
        return self


class AnalyzedSentence(PredictionResult):
    id: int = Field(description="Position of the sentence in the article, from 0.")
    start: int = Field(description="Offset of its first character in the text sent.")
    end: int = Field(description="Offset after its last character: text[start:end].")
    text: str
    actor: str | None = Field(
        description="Who holds the stance (labels/actors.toml), or null: no name matched, or "
        "the sentence takes no stance.",
        examples=["Russia"],
    )


class ActorSummary(BaseModel):
    actor: str = Field(examples=["Russia"])
    counts: dict[str, int] = Field(description="The actor's sentences per label.")
    most_confident: int = Field(description="Id of its sentence with the highest score.")


class Summary(BaseModel):
    counts: dict[str, int] = Field(
        description="Sentences per label.", examples=[{label: 1 for label in EXAMPLE_SCORES}]
    )
    stance_share: float = Field(description="Share of the sentences that take a stance.")
    actors: list[ActorSummary] = Field(description="By actor, most sentences first.")


class ArticleAnalysis(BaseModel):
    sentences: list[AnalyzedSentence]
    summary: Summary


class AnalyzeResponse(ArticleAnalysis):
    model_version: str = Field(examples=[EXAMPLE_VERSION])


class DocumentAnalysis(ArticleAnalysis):
    id: str


class AnalyzeBatchResponse(BaseModel):
    documents: list[DocumentAnalysis] = Field(description="One analysis per document, in order.")
    model_version: str = Field(examples=[EXAMPLE_VERSION])
