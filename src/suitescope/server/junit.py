"""JUnit XML from any tool (pytest, Maven Surefire, Jest, Go via gotestsum, ...) as a schema v1 report.

What the XML says is kept: each `<testcase>` becomes a test record (`classname::name`), with its time, its
`<failure>`/`<error>`/`<skipped>`, and Surefire's retries: `<flakyFailure>`/`<flakyError>` in a passing test
are earlier failed attempts, `<rerunFailure>`/`<rerunError>` in a failing one are later failed attempts. What it
does not say (Python version, OS, instruments) is left unknown, never made up. The XML is parsed by defusedxml:
no entity expansion, no DTD, no external entities.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from suitescope.schema.codec import SCHEMA_VERSION
from suitescope.schema.ids import new_run_id
from suitescope.server.clock import iso, parse_iso
from suitescope.server.errors import ApiError
from suitescope.server.reports import Report

MESSAGE_LIMIT = 2000
NAME_LIMIT = 2000
_VOLATILE = re.compile(r"0x[0-9a-fA-F]+|\b\d+(\.\d+)?\b|'[^']*'|\"[^\"]*\"")
FAILED_ATTEMPTS = {"flakyFailure": "failed", "flakyError": "error", "rerunFailure": "failed", "rerunError": "error"}


@dataclass(frozen=True)
class JunitTags:
    """What the request's query says about the run, where the XML cannot."""

    framework: str | None = None
    framework_version: str | None = None
    started: str | None = None


def parse_junit(data: bytes, tags: JunitTags) -> Report:
    """The report of one JUnit XML document; ApiError 400 when it is not XML, 422 when it is not JUnit."""
    root = _parse(data)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if root.tag not in ("testsuite", "testsuites"):
        raise ApiError(
            422,
            "not a JUnit report",
            [{"loc": ["body"], "msg": f"root element <{root.tag}>, expected <testsuites> or <testsuite>"}],
        )
    run_id = new_run_id()
    started = _started(suites, tags)
    tests: list[dict[str, Any]] = []
    for suite in suites:
        for case in suite.findall("testcase"):
            tests.extend(_attempts(case, suite, run_id, started))
    framework, version = _framework(root, suites, tags)
    return Report(_run(root, suites, tests, run_id, started, framework, version), tests)


def _parse(data: bytes) -> Element:
    try:
        root: Element = fromstring(data, forbid_dtd=True)
    except ParseError as exc:
        raise ApiError(400, "the body is not well-formed XML", [{"loc": ["body"], "msg": str(exc)}]) from None
    except DefusedXmlException as exc:
        raise ApiError(
            400, "the XML uses a DTD or entities, which are refused", [{"loc": ["body"], "msg": repr(exc)}]
        ) from None
    return root


def _started(suites: list[Element], tags: JunitTags) -> datetime:
    stamps = [s.get("timestamp") for s in suites if s.get("timestamp")]
    for text in [tags.started, *sorted(str(t) for t in stamps)]:
        if text:
            try:
                return parse_iso(text)
            except ValueError:
                continue
    return datetime.now(timezone.utc)


def _seconds(element: Element) -> float:
    try:
        return max(float(element.get("time") or 0), 0.0)
    except ValueError:
        return 0.0


def _attempts(case: Element, suite: Element, run_id: str, started: datetime) -> list[dict[str, Any]]:
    """One record per attempt: Surefire's retries first (earlier or later failed attempts), then the outcome."""
    status, outcome = _outcome(case)
    retries = [(child, FAILED_ATTEMPTS[child.tag]) for child in case if child.tag in FAILED_ATTEMPTS]
    flaky = [(c, s) for c, s in retries if c.tag.startswith("flaky")]
    reruns = [(c, s) for c, s in retries if c.tag.startswith("rerun")]
    attempts = [*flaky, (outcome, status), *reruns]
    records = []
    for number, (element, attempt_status) in enumerate(attempts, start=1):
        record = _record(case, suite, run_id, started, attempt_status, element)
        record["attempt"] = number
        record["final"] = number == len(attempts)
        records.append(record)
    return records


def _outcome(case: Element) -> tuple[str, Element | None]:
    for tag, status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            return status, found
    return "passed", None


def _record(
    case: Element, suite: Element, run_id: str, started: datetime, status: str, detail: Element | None
) -> dict[str, Any]:
    classname = (case.get("classname") or suite.get("name") or "")[:NAME_LIMIT]
    name = (case.get("name") or "(unnamed)")[:NAME_LIMIT]
    duration_ms = round(_seconds(case) * 1000, 3) if detail is None or detail.tag not in FAILED_ATTEMPTS else 0.0
    line = case.get("line")
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "test",
        "run_id": run_id,
        "id": f"{classname}::{name}" if classname else name,
        "name": name,
        "class": None,
        "module": classname or None,
        "file": case.get("file"),
        "line": int(line) if line and line.isdigit() else None,
        "params": None,
        "status": status,
        "when": "call" if status in ("failed", "error") else None,
        "start_time": iso(started),
        "end_time": iso(started + timedelta(milliseconds=duration_ms)),
        "duration_ms": duration_ms,
        "phases": {"setup_ms": None, "call_ms": None, "teardown_ms": None},
        "worker": None,
        "attempt": 1,
        "final": True,
        "assertions": {"passed": None, "failed": None},
        "failure": _failure(detail) if status in ("failed", "error") and detail is not None else None,
        "reason": (detail.get("message") or None) if status == "skipped" and detail is not None else None,
        "markers": [],
    }


def _failure(detail: Element) -> dict[str, str]:
    text = (detail.text or "").strip()
    stack = detail.find("stackTrace")  # Surefire's retries put the trace in a child
    if not text and stack is not None:
        text = (stack.text or "").strip()
    message = (detail.get("message") or (text.splitlines()[0] if text else ""))[:MESSAGE_LIMIT]
    kind = (detail.get("type") or detail.tag)[:200]
    normalised = _VOLATILE.sub("?", message.splitlines()[0] if message else "")
    return {
        "type": kind,
        "message": message,
        "fingerprint": hashlib.sha256(f"{kind}\0{normalised}".encode()).hexdigest()[:16],
    }


def _framework(root: Element, suites: list[Element], tags: JunitTags) -> tuple[str, str | None]:
    if tags.framework:
        return tags.framework, tags.framework_version
    properties = {p.get("name"): p.get("value") for s in suites for p in s.iter("property")}
    if properties.get("go.version"):
        return "go", properties["go.version"]
    if any(s.get("name") == "pytest" for s in suites):
        return "pytest", None
    if "jest" in (root.get("name") or "").lower():
        return "jest", None
    if "surefire" in " ".join(str(k) for k in properties) or properties.get("java.version"):
        return "surefire", properties.get("surefire.version")
    return "junit", None


def _run(
    root: Element,
    suites: list[Element],
    tests: list[dict[str, Any]],
    run_id: str,
    started: datetime,
    framework: str,
    version: str | None,
) -> dict[str, Any]:
    finals = [t for t in tests if t["final"]]
    counts = dict.fromkeys(("passed", "failed", "error", "skipped", "xfailed", "xpassed"), 0)
    for test in finals:
        counts[test["status"]] += 1
    duration_ms = round(
        (_seconds(root) if root.tag == "testsuites" and root.get("time") else sum(_seconds(s) for s in suites)) * 1000,
        3,
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "run_id": run_id,
        "project": None,
        "vendor": None,
        "started": iso(started),
        "finished": iso(started + timedelta(milliseconds=duration_ms)),
        "duration_ms": duration_ms,
        "tests_duration_ms": round(sum(t["duration_ms"] for t in tests), 3),
        "exit_status": None,
        "state": "completed",
        "counts": counts,
        "tests": len(finals),
        "attempts": len(tests),
        "reruns": len(tests) - len(finals),
        "classes": 0,
        "modules": len({t["module"] for t in finals}),
        "assertions": {"total": None, "passed": None, "failed": 0},
        "exceptions": counts["error"],
        "errors": counts["error"],
        "collection_errors": 0,
        "subtests_failed": 0,
        "tests_expected": None,
        "tests_executed": len(finals),
        "lost_workers": 0,
        "memory": {"peak_rss_kb": None, "processes": {}},
        "cpu": {"user_s": None, "system_s": None},
        "effects": {
            "db_queries": None,
            "db_duration_ms": None,
            "n_plus_one_tests": None,
            "external_network_tests": None,
        },
        "coverage": None,
        "environment": {
            "python": {"implementation": "", "version": ""},
            "framework": {"name": framework, "version": version},
            "os": {"name": "", "release": ""},
            "arch": "",
            "ci": None,
            "git": None,
            "host": "",
        },
        "configuration": {"workers": 0, "reruns": None, "randomly_seed": None, "plugins": {}, "options": []},
        "collector": {"name": "junit", "version": SCHEMA_VERSION},
        "consent": {"recording": "junit", "sending": True, "anonymity": "named"},
    }
