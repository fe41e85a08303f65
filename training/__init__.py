"""Point-in-time training from the model's FeatureService, tracked in MLflow, through the promotion gate."""
