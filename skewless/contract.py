"""The feature contract shared by the feature repo, training, serving and monitoring.

Only *names* live here: entity join keys, feature table names, request fields and the
feature service of each model version. The feature definitions themselves live once,
in ``feature_repo/definitions.py``; training and serving read the feature list from
the Feast registry through the feature service, never from a hand-written list.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CUSTOMER_ACTIVITY",
    "CUSTOMER_ACTIVITY_PUSH",
    "CUSTOMER_KEY",
    "CUSTOMER_PROFILE",
    "EVENT_TIMESTAMP",
    "CREATED_TIMESTAMP",
    "FEATURE_SERVICE_V1",
    "MERCHANT_KEY",
    "MERCHANT_STATS",
    "PROJECT",
    "REQUEST_FIELDS",
    "TRANSACTION_CONTEXT",
]

PROJECT: Final = "skewless"

CUSTOMER_KEY: Final = "customer_id"
MERCHANT_KEY: Final = "merchant_id"

EVENT_TIMESTAMP: Final = "event_timestamp"
CREATED_TIMESTAMP: Final = "created"

# Feature tables written by the pipeline and read by Feast FileSources.
CUSTOMER_ACTIVITY: Final = "customer_activity"
CUSTOMER_ACTIVITY_PUSH: Final = "customer_activity_push"  # fresh statistics straight to the online store
CUSTOMER_PROFILE: Final = "customer_profile"
MERCHANT_STATS: Final = "merchant_stats"

# On-demand feature view of request-time transforms.
TRANSACTION_CONTEXT: Final = "transaction_context"

# Fields known only when a transaction arrives (the RequestSource schema).
REQUEST_FIELDS: Final = ("amount", "merchant_country", "channel", "transaction_time")

FEATURE_SERVICE_V1: Final = "fraud_detection_v1"
