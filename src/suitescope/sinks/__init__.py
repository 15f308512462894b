"""Where records go: a local NDJSON file now, an HTTP sender with an on-disk spool later."""

from suitescope.sinks.ndjson import NdjsonSink, run_file

__all__ = ["NdjsonSink", "run_file"]
