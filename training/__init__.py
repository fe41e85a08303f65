"""Point-in-time training from the model's FeatureService (see docs/architecture.md; next issue)."""
