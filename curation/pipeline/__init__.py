"""The curation pipeline: the spec both runners read (`spec`: stage list and operator plan), the sequential runner
(`sequential`), and the job around an engine (`job`: resume, commit per source, pack)."""
