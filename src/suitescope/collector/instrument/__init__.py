"""Instruments: what each test did besides passing or failing (queries, connections, memory, CPU).

One module per library (`django_db`, `sqlalchemy`, `sqlite3`, `psycopg`, `network`, `memory`), each installed
only once its library is imported; `effects` holds the per-attempt counters they fill, and `manager` is what a
runner drives: `begin`, `phase`, `end` per attempt, `close` at the end of the run.
"""
