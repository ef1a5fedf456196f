"""Curated clips on disk: the shard schema (`schema`), what a finished clip record becomes (`manifest_rows`), the
job's ledger of finished sources (`ledger`), packing into shards, index and manifest (`packing`), the train/test
split (`split`), reproducible tar files (`tar_files`), and the training reader (`reader`)."""
