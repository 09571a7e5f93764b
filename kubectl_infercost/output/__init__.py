"""Writers that take a stream: tables, json/yaml, FOCUS csv/json/parquet."""
