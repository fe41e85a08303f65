"""Drift of served features against the training snapshot (see docs/architecture.md; a later issue)."""
