"""Analysis and decision support (分析研判): the Parquet lake and the metrics computed on it."""
