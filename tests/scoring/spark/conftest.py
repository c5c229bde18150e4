"""A local Spark session for the Spark tests; they skip, saying why, only when Java is absent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

JAVA_MISSING = shutil.which("java") is None
needs_java = pytest.mark.skipif(
    JAVA_MISSING,
    reason="Spark needs a Java runtime and `java` is not on PATH "
    "(apt-get install openjdk-17-jre-headless; .ci/run installs it in CI)",
)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """local[2] with two shuffle partitions: small inputs, quick stages."""
    if JAVA_MISSING:
        pytest.skip("no Java runtime for Spark")
    from scoring.spark.job import local_session

    session = local_session(cores=2, driver_memory="1g", shuffle_partitions=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
