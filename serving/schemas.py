"""Request and response models of the prediction API (one pair per endpoint)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from skewless.settings import DeploymentMode

__all__ = [
    "ArmFigures",
    "BatchRequest",
    "BatchResponse",
    "DeploymentRequest",
    "DeploymentResponse",
    "ErrorResponse",
    "HealthResponse",
    "ModelInfoResponse",
    "PredictRequest",
    "PredictResponse",
    "ReloadResponse",
]


ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


class ErrorResponse(BaseModel):
    """Any refused request except validation (422): one line saying why."""

    detail: str


class PredictRequest(BaseModel):
    """One card transaction as it arrives: entity ids and request-time fields."""

    model_config = ConfigDict(extra="forbid")

    # strict: a JSON string, a boolean or a float is not silently taken for an id or an amount
    customer_id: int = Field(strict=True, ge=1, le=2**62, description="Card holder id (Feast entity key).")
    merchant_id: int = Field(strict=True, ge=1, le=2**62, description="Merchant id (Feast entity key).")
    amount: float = Field(
        strict=True, gt=0, le=1_000_000, allow_inf_nan=False, description="Amount in account currency."
    )
    merchant_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. FR.")
    channel: Literal["in_store", "contactless", "online"]
    transaction_time: AwareDatetime | None = Field(
        default=None,
        description="When the transaction happened, ISO 8601 with its UTC offset, between 2000 and 2100 "
        "UTC; default: now.",
    )
    transaction_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The payment's own id, logged so that labels (chargebacks) can be joined later.",
    )

    @field_validator("transaction_time", mode="before")
    @classmethod
    def _iso_string_only(cls, value: object) -> object:
        # Pydantic would read a number, or a string of digits, as epoch seconds; the schema promises
        # a date-time string.
        if value is not None and not (isinstance(value, str) and ISO_DATE_TIME.match(value)):
            raise ValueError(
                "must be an ISO 8601 date-time string with its UTC offset, e.g. 2026-05-01T12:00:00Z"
            )
        return value

    @field_validator("transaction_time", mode="after")
    @classmethod
    def _within_range(cls, value: datetime | None) -> datetime | None:
        # Far dates pass the type but overflow later (timestamps in nanoseconds end in 2262).
        if value is None:
            return value
        try:
            moment = value.astimezone(UTC)
        except (OverflowError, ValueError):  # 9999-12-31T23:59:59-14:00 is past the last datetime in UTC
            moment = None
        if moment is None or not EARLIEST <= moment < LATEST:
            raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} UTC")
        return moment


class PredictResponse(BaseModel):
    """The model's answer for one transaction."""

    request_id: str
    fraud_probability: float = Field(ge=0, le=1)
    decision: Literal["review", "approve"]
    threshold: float
    model_name: str
    model_version: int
    missing_features: list[str] = Field(
        description="Features the model saw as missing: absent from the online store (unknown entity) "
        "or stale (below), and transforms of them."
    )
    stale_features: list[str] = Field(
        description="Stored features older than their view's TTL at the transaction's time: served missing, "
        "as the point-in-time join that built the training set reads them."
    )
    degraded: bool = Field(description="True when scored with request-time features only (store down).")


class BatchRequest(BaseModel):
    """Several transactions scored in one call (size bounded by settings)."""

    model_config = ConfigDict(extra="forbid")

    transactions: list[PredictRequest] = Field(min_length=1)


class BatchResponse(BaseModel):
    predictions: list[PredictResponse]


class HealthResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    model_loaded: bool
    online_store: Literal["reachable", "unreachable", "empty", "stale", "unknown"]
    detail: str | None = None


class ModelInfoResponse(BaseModel):
    model_name: str
    model_version: int
    alias: str
    feature_service: str
    features: list[str]
    threshold: float


class ReloadResponse(BaseModel):
    changed: bool = Field(description="Whether the lineup changed.")
    from_version: int = Field(description="Champion version before.")
    to_version: int = Field(description="Champion version after.")
    challenger_version: int | None
    mode: DeploymentMode = Field(description="Deployment mode in force after the reload.")


class DeploymentRequest(BaseModel):
    """How the champion and the challenger share traffic (recorded in the registry)."""

    model_config = ConfigDict(extra="forbid")

    mode: DeploymentMode
    canary_share: float = Field(
        default=0.1,
        strict=True,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of customers on the challenger.",
    )


class ArmFigures(BaseModel):
    """One model's recent answers in this process."""

    answers: int
    errors: int
    error_rate: float
    p99_ms: float | None
    mean_score: float | None


class DeploymentResponse(BaseModel):
    """The deployment in force, and the live comparison of challenger and champion."""

    mode: DeploymentMode = Field(description="Mode in force in this process.")
    requested_mode: DeploymentMode = Field(description="Mode the registry (or the settings) asks for.")
    requested_reason: str
    note: str = Field(description="Why the mode in force differs from the requested one, if it does.")
    canary_share: float
    champion_version: int
    challenger_version: int | None
    judged: bool = Field(description="Both models have enough answers to be compared.")
    departed: bool = Field(description="The challenger departs from the champion past the limits.")
    reasons: list[str]
    score_ks: float | None
    rank_correlation: float | None = None
    champion: ArmFigures
    challenger: ArmFigures
