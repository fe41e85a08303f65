"""One Spark session per process, from one set of properties (the profile's, see
``feature_repo.operations.config.spark_properties``): the feature pipeline, Feast's Spark
offline store and its engine all find this session (``getOrCreate``), so they share it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from skewless.errors import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["open_spark_session", "prepare_spark_process"]


def prepare_spark_process(properties: Mapping[str, str]) -> None:
    """Make this process ready to start Spark with ``properties``, whoever starts it (Feast's store
    and engine start their own session from the same properties): in local mode the driver
    stays on loopback, and PySpark starts its Python workers with ``PYSPARK_PYTHON`` (it does not
    read the ``spark.pyspark.python`` property), so that is set from the property."""
    if properties.get("spark.master", "").startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # not the first interface's address
    if "spark.pyspark.python" in properties:
        os.environ["PYSPARK_PYTHON"] = properties["spark.pyspark.python"]


def open_spark_session(properties: Mapping[str, str]) -> SparkSession:
    """The process's Spark session with ``properties`` (started if none runs yet; a running one is
    reused as it is, so its static properties, such as the master, are the first caller's).

    Raises:
        ConfigurationError: pyspark is missing, or Spark does not start (no Java runtime, say).
    """
    try:
        from pyspark import SparkConf
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise ConfigurationError(f"the spark profile needs pyspark (pip install -e .): {e}") from e
    prepare_spark_process(properties)
    try:
        session = SparkSession.builder.config(conf=SparkConf().setAll(list(properties.items()))).getOrCreate()
    except Exception as e:  # py4j's launcher and the JVM raise many kinds
        hint = " (scripts/system-deps.sh installs a Java 17 runtime)" if "java" in str(e).lower() else ""
        raise ConfigurationError(f"Spark did not start: {e}{hint}") from e
    session.sparkContext.setLogLevel("ERROR")
    return session
