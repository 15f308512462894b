"""The suitescope server: ingest API, durable queue, idempotent worker, store, rollups (docs/server.md).

Needs the `server` extra. Nothing here is imported by the collector.
"""
