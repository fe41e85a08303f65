"""Monitoring: what the API served against the training snapshot; drift, skew, performance, the policy."""
