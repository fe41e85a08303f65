"""The test suite (see the README). Importing it keeps prometheus_client in its in-process mode
before anything imports Feast, as every entry point of Skewless does."""

from skewless.third_party import keep_metrics_in_process

keep_metrics_in_process()
