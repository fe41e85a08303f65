"""The online prediction API on the online store (see docs/architecture.md; a later issue)."""
