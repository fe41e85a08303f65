"""The online prediction API: the champion (and a challenger) scored on the online store's features.

``app`` assembles the FastAPI app over a ``runtime``: the request path (``predictor``:
routing and scoring over an immutable ``lineup``), the ``watcher`` that changes the
lineup (reload, deployment, rollback), readiness, the served-feature log and metrics.
"""
