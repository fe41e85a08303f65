"""The Feast feature repo: definitions (read by `feast apply`), the feature pipeline
that builds its tables, and the operations (apply, materialize, online lookup)."""
