"""The scoring algorithm on Apache Spark (PySpark 4), for days beyond one machine's memory.

`window_io` reads and writes the scoring window as partitioned Parquet (``manage.py
export_window``), `engine` scores it on Spark DataFrames with the numpy engine's maths, `job`
runs that locally or under spark-submit, and `results` turns Spark's output back into engine
results for ``manage.py import_scores``. Like `scoring.engine`, nothing here imports Django.
"""
