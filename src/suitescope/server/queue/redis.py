"""The queue on Redis Streams, for many API and worker processes on many hosts (`--queue redis://host:6379/0`).

A job is a hash (`P:job:<id>`: the report's body, its tags, state, attempts) and an entry in the stream
`P:stream` that points to it (the body never travels through the stream, whatever its size). Workers read the
stream in the consumer group `workers` with XREADGROUP, and the stream's pending list is their lease: a job
is acknowledged (XACK, then the entry and the hash deleted) only after the store committed it. The jobs of a
worker that died are taken over with XAUTOCLAIM once they have been idle for the visibility timeout, or at
once when the dead worker was a process of this host. Retries wait in a sorted set by due time and go back
to the stream when due; a job that used its attempts moves to the dead-letter stream `P:dead`.

The stream is never trimmed by MAXLEN: an acknowledged entry is deleted, so the stream holds exactly the
unprocessed reports and trimming could only ever drop one of those. Redis must keep what it acknowledged:
run it with `appendonly yes` (and `appendfsync always` to survive a power cut, not only a restart); the queue
logs a warning when AOF is off. One key prefix (`?prefix=`, default `suitescope`) holds everything, so
several deployments (or tests) can share one Redis.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import redis

from suitescope.server.queue import Depth, Job, JobInfo, NewJob, Part
from suitescope.server.queue.sqlite import PART_TTL_S, is_dead_owner

log = logging.getLogger("suitescope.server")
GROUP = "workers"

# KEYS: seq, stream, index; ARGV: job key prefix, run key prefix, run_id, project_id, meta, body, now
PUT = """
local id = redis.call('INCR', KEYS[1])
local job = ARGV[1] .. id
redis.call('HSET', job, 'run_id', ARGV[3], 'project_id', ARGV[4], 'meta', ARGV[5], 'body', ARGV[6],
           'state', 'ready', 'attempts', 0, 'created_at', ARGV[7], 'available_at', ARGV[7], 'last_error', '')
local entry = redis.call('XADD', KEYS[2], '*', 'id', id)
redis.call('HSET', job, 'entry', entry)
redis.call('ZADD', KEYS[3], id, id)
redis.call('SET', ARGV[2] .. ARGV[3], id)
return id
"""
# Due retries back into the stream. KEYS: delayed, stream; ARGV: now, limit, job key prefix
PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  if redis.call('EXISTS', ARGV[3] .. id) == 1 then
    local entry = redis.call('XADD', KEYS[2], '*', 'id', id)
    redis.call('HSET', ARGV[3] .. id, 'entry', entry, 'state', 'ready')
  end
end
return #due
"""
# A leased job out of the stream: back to wait (retry or release) or to the dead letters.
# KEYS: stream, delayed, dead; ARGV: job key, id, available_at, attempts delta, error ('' keeps it), dead (0/1)
REQUEUE = """
local entry = redis.call('HGET', ARGV[1], 'entry')
if entry then
  redis.call('XACK', KEYS[1], 'workers', entry)
  redis.call('XDEL', KEYS[1], entry)
end
if redis.call('EXISTS', ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', ARGV[1], 'attempts', ARGV[4])
redis.call('HSET', ARGV[1], 'owner', '', 'available_at', ARGV[3], 'entry', '')
if ARGV[5] ~= '' then redis.call('HSET', ARGV[1], 'last_error', ARGV[5]) end
if ARGV[6] == '1' then
  local dead = redis.call('XADD', KEYS[3], '*', 'id', ARGV[2])
  redis.call('HSET', ARGV[1], 'state', 'dead', 'dead_entry', dead)
else
  redis.call('HSET', ARGV[1], 'state', 'ready')
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
end
return 1
"""
# Done, or purged: the entry acknowledged and every key of the job deleted.
# KEYS: stream, index, dead; ARGV: job key, id, run key prefix
FINISH = """
local fields = redis.call('HMGET', ARGV[1], 'entry', 'run_id', 'dead_entry')
if fields[1] and fields[1] ~= '' then
  redis.call('XACK', KEYS[1], 'workers', fields[1])
  redis.call('XDEL', KEYS[1], fields[1])
end
if fields[3] and fields[3] ~= '' then redis.call('XDEL', KEYS[3], fields[3]) end
if fields[2] and redis.call('GET', ARGV[3] .. fields[2]) == ARGV[2] then redis.call('DEL', ARGV[3] .. fields[2]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return redis.call('DEL', ARGV[1])
"""
INFO_FIELDS = ("run_id", "project_id", "state", "attempts", "created_at", "available_at", "last_error")


class RedisQueue:
    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        prefix = (query.pop("prefix", ["suitescope"]))[0]
        clean = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, doseq=True)))
        # Any: redis-py's annotations give every reply as a union of all replies; the shapes are the commands'.
        self.r: Any = redis.Redis.from_url(clean, socket_timeout=30, health_check_interval=30)
        self.p = prefix
        self.stream, self.delayed, self.dead = f"{prefix}:stream", f"{prefix}:delayed", f"{prefix}:dead"
        self.index, self.seq = f"{prefix}:index", f"{prefix}:seq"
        self._put: Any = self.r.register_script(PUT)
        self._promote: Any = self.r.register_script(PROMOTE)
        self._requeue: Any = self.r.register_script(REQUEUE)
        self._finish: Any = self.r.register_script(FINISH)
        try:
            self.r.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._warn_without_aof()

    def _warn_without_aof(self) -> None:
        try:
            aof = self.r.config_get("appendonly").get("appendonly")
        except redis.ResponseError:  # CONFIG may be renamed or refused by a managed Redis
            return
        if aof != "yes":
            log.warning("Redis runs without AOF (appendonly no): accepted reports are lost if Redis restarts")

    def _job_key(self, job_id: int | str) -> str:
        return f"{self.p}:job:{job_id}"

    def put(self, job: NewJob) -> int:
        args = [f"{self.p}:job:", f"{self.p}:run:", job.run_id, job.project_id, json.dumps(job.meta), job.body]
        return int(self._put(keys=[self.seq, self.stream, self.index], args=[*args, time.time()]))

    def put_part(self, part: Part) -> int:
        """Keep one part (sending it again replaces it); how many parts of its run are in now."""
        key = f"{self.p}:parts:{part.run_id}"
        head = {k: getattr(part, k) for k in ("run_id", "project_id", "part", "parts", "meta", "has_run", "tests")}
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(key, str(part.part), json.dumps(head).encode() + b"\n" + part.body)
            pipe.expire(key, PART_TTL_S)
            pipe.hlen(key)
            return int(pipe.execute()[-1])

    def _parts(self, run_id: str) -> list[Part]:
        found = []
        for blob in self.r.hvals(f"{self.p}:parts:{run_id}"):
            head, _, body = bytes(blob).partition(b"\n")
            fields = json.loads(head)
            found.append(Part(**fields, body=body))
        return sorted(found, key=lambda part: part.part)

    def assemble(self, run_id: str, parts: int, make: Callable[[list[Part]], NewJob]) -> int | None:
        """When all `parts` parts of a run are in: `make` one job of them, queue it and drop the parts, in one
        transaction (WATCH): a run is queued once however its last parts race. None while parts are missing."""
        key = f"{self.p}:parts:{run_id}"
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                found = self._parts(run_id)
                if [part.part for part in found] != list(range(1, parts + 1)):
                    return None
                job = make(found)
                pipe.multi()
                args = [f"{self.p}:job:", f"{self.p}:run:", job.run_id, job.project_id, json.dumps(job.meta)]
                self._put(keys=[self.seq, self.stream, self.index], args=[*args, job.body, time.time()], client=pipe)
                pipe.delete(key)
                return int(pipe.execute()[0])
            except redis.WatchError:
                return None  # another request assembled it

    def parts_received(self, run_id: str) -> tuple[int, int, int] | None:
        """(parts in, parts in all, project id) of a run still being sent in parts, or None."""
        found = self._parts(run_id)
        return (len(found), found[0].parts, found[0].project_id) if found else None

    def drop_parts(self, run_id: str) -> None:
        self.r.delete(f"{self.p}:parts:{run_id}")

    def lease(self, owner: str, visibility_s: float, limit: int = 1, max_bytes: int = 1 << 62) -> list[Job]:
        """Up to `limit` jobs for this worker: first those of dead workers idle past the visibility timeout
        (XAUTOCLAIM), then new ones (XREADGROUP); bodies adding up to at most `max_bytes` (the first one
        always: the rest go back, due now)."""
        now = time.time()
        self._promote(keys=[self.delayed, self.stream], args=[now, 1000, f"{self.p}:job:"])
        idle_ms = int(max(visibility_s, 0.0) * 1000)  # every worker has the same visibility: its own will do
        claimed = self.r.xautoclaim(self.stream, GROUP, owner, idle_ms, "0-0", count=limit)
        entries: list[tuple[bytes, dict[bytes, bytes]]] = list(claimed[1])
        for gone in claimed[2] if len(claimed) > 2 else ():  # entries deleted while pending: nothing to do
            self.r.xack(self.stream, GROUP, gone)
        if len(entries) < limit:
            read = self.r.xreadgroup(GROUP, owner, {self.stream: ">"}, count=limit - len(entries))
            for _stream, fresh in read or ():
                entries.extend(fresh)
        return self._take(entries, owner, now + visibility_s, max_bytes)

    def _take(
        self, entries: list[tuple[bytes, dict[bytes, bytes]]], owner: str, until: float, max_bytes: int
    ) -> list[Job]:
        jobs: list[Job] = []
        size = 0
        for entry, fields in entries:
            if not fields:  # an entry deleted under us (acknowledged by a worker that came back)
                self.r.xack(self.stream, GROUP, entry)
                continue
            job_id = int(fields[b"id"])
            key = self._job_key(job_id)
            with self.r.pipeline(transaction=True) as pipe:
                pipe.hincrby(key, "attempts", 1)
                pipe.hset(key, mapping={"state": "leased", "owner": owner, "available_at": until, "entry": entry})
                pipe.hmget(key, "run_id", "project_id", "meta", "body", "attempts")
                run_id, project_id, meta, body, attempts = pipe.execute()[-1]
            if run_id is None:  # purged meanwhile
                self._finish(keys=[self.stream, self.index, self.dead], args=[key, job_id, f"{self.p}:run:"])
                continue
            if jobs and size + len(body) > max_bytes:
                self.release(job_id, 0.0)
                continue
            size += len(body)
            jobs.append(Job(run_id.decode(), int(project_id), json.loads(meta), bytes(body), job_id, int(attempts)))
        return sorted(jobs, key=lambda job: job.id)

    def ack(self, job_ids: list[int]) -> None:
        """Done with these jobs: acknowledged, and their entries and hashes deleted (one round trip)."""
        with self.r.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                args = [self._job_key(job_id), job_id, f"{self.p}:run:"]
                self._finish(keys=[self.stream, self.index, self.dead], args=args, client=pipe)
            pipe.execute()

    def _move(self, job_id: int, delay_s: float, attempts: int, error: str, dead: bool) -> None:
        args = [self._job_key(job_id), job_id, time.time() + delay_s, attempts, error, "1" if dead else "0"]
        self._requeue(keys=[self.stream, self.delayed, self.dead], args=args)

    def release(self, job_id: int, delay_s: float) -> None:
        """Give a job back without counting the attempt (the store was down: not the job's fault)."""
        self._move(job_id, delay_s, -1, "", False)

    def fail(self, job_id: int, error: str, delay_s: float, dead: bool) -> None:
        self._move(job_id, delay_s, 0, error[:2000], dead)

    def reclaim(self) -> int:
        """Give back at once the jobs of workers of this host that are no longer running (killed, crashed)."""
        moved = 0
        for consumer in self.r.xinfo_consumers(self.stream, GROUP):
            name = info_of(consumer["name"])
            if not is_dead_owner(name):
                continue
            while pending := self.r.xpending_range(self.stream, GROUP, "-", "+", 100, consumername=name):
                for item in pending:
                    found = self.r.xrange(self.stream, item["message_id"], item["message_id"])
                    if found and found[0][1]:
                        self._move(int(found[0][1][b"id"]), 0.0, 0, "", False)
                        moved += 1
                    else:
                        self.r.xack(self.stream, GROUP, item["message_id"])
            self.r.xgroup_delconsumer(self.stream, GROUP, name)
        return moved

    def _info(self, job_id: int) -> JobInfo | None:
        values = self.r.hmget(self._job_key(job_id), *INFO_FIELDS)
        if values[0] is None:
            return None
        run_id, project_id, state, attempts, created, available, error = (v.decode() for v in values)
        return JobInfo(
            job_id, run_id, int(project_id), state, int(attempts), float(created), float(available), error or None
        )

    def status(self, run_id: str) -> JobInfo | None:
        job_id = self.r.get(f"{self.p}:run:{run_id}")
        return self._info(int(job_id)) if job_id is not None else None

    def jobs(self, state: str | None = None, limit: int = 100) -> list[JobInfo]:
        found: list[JobInfo] = []
        for job_id in self.r.zrange(self.index, 0, -1):
            info = self._info(int(job_id))
            if info is not None and (state is None or info.state == state):
                found.append(info)
                if len(found) >= limit:
                    break
        return found

    def _dead_ids(self, job_ids: list[int] | None) -> list[int]:
        every = [int(fields[b"id"]) for _entry, fields in self.r.xrange(self.dead)]
        return every if job_ids is None else [job_id for job_id in every if job_id in set(job_ids)]

    def retry(self, job_ids: list[int] | None = None) -> int:
        """Dead jobs back to the queue, with their attempts reset (all of them, or those named)."""
        dead = self._dead_ids(job_ids)
        for job_id in dead:
            key = self._job_key(job_id)
            with self.r.pipeline(transaction=True) as pipe:
                pipe.hget(key, "dead_entry")
                entry = pipe.execute()[0]
            with self.r.pipeline(transaction=True) as pipe:
                if entry:
                    pipe.xdel(self.dead, entry)
                pipe.hset(key, mapping={"state": "ready", "attempts": 0, "dead_entry": "", "available_at": time.time()})
                pipe.zadd(self.delayed, {str(job_id): time.time()})
                pipe.execute()
        return len(dead)

    def purge(self, job_ids: list[int] | None = None) -> int:
        dead = self._dead_ids(job_ids)
        for job_id in dead:
            self._finish(
                keys=[self.stream, self.index, self.dead], args=[self._job_key(job_id), job_id, f"{self.p}:run:"]
            )
        return len(dead)

    def depth(self) -> Depth:
        with self.r.pipeline(transaction=False) as pipe:
            pipe.xlen(self.stream)
            pipe.xpending(self.stream, GROUP)
            pipe.zcard(self.delayed)
            pipe.xlen(self.dead)
            in_stream, pending, delayed, dead = pipe.execute()
        leased = int(pending["pending"])
        ready = int(in_stream) - leased + int(delayed)
        by_state = {name: n for name, n in (("ready", ready), ("leased", leased), ("dead", int(dead))) if n}
        return Depth(ready, leased, int(dead), by_state)

    def close(self) -> None:
        self.r.close()


def info_of(value: Any) -> str:
    """A name from XINFO, whichever way the client decoded it."""
    return value.decode() if isinstance(value, bytes) else str(value)
