"""Redaction against a corpus of secrets in the places they turn up, and the anonymity of the payload."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from suitescope.collector.privacy import PrivacyPolicy, Redactor, pseudonym, user_key
from tests.server.factory import make_report

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
# (the secret, a text it appears in). Every secret must be gone from the redacted text.
CORPUS = [
    (
        "abcdefghijklmnopqrstuvwxyz012345",
        "requests.exceptions.HTTPError: 401 for Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
    ),
    ("Zm9vOmJhcmJhemJheg==", "header Authorization: Basic Zm9vOmJhcmJhemJheg=="),
    ("AKIAIOSFODNN7EXAMPLE", "botocore: invalid key AKIAIOSFODNN7EXAMPLE"),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    (
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "git clone failed with token ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "GITHUB_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    ),
    (
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "slack said invalid_auth for xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe.error.AuthenticationError: sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("AIzaSyD-1234567890abcdefghijklmnopqrstu", "maps key=AIzaSyD-1234567890abcdefghijklmnopqrstu rejected"),
    (JWT, f"assert decode(t) == {{}} where t = '{JWT}'"),
    (
        "MIIEowIBAAKCAQEA7bq",
        "key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----'",
    ),
    ("hunter2", "assert login(user, password='hunter2') is True"),
    ("hunter3", 'json: {"password": "hunter3", "user": "x"}'),
    ("s3cr3t-value", "settings.SECRET_KEY=s3cr3t-value"),
    ("tok-998877", "client(api_key=tok-998877)"),
    ("pg-pass-42", "could not connect to postgresql://app:pg-pass-42@db.internal:5432/shop"),
    ("sessionid=abc123", "GET https://shop.example.com/cart?sessionid=abc123&page=2 returned 500"),
    ("jane.doe@example.com", "AssertionError: sent to jane.doe@example.com, expected nobody"),
    ("sst_0123456789abcdefghijABCDEFGHIJ", "suitescope token sst_0123456789abcdefghijABCDEFGHIJ leaked"),
    ("s3cr3tpw", "redis://:s3cr3tpw@cache:6379/0 refused"),
]
# Texts that hold nothing to hide: redaction must leave them as they are.
CLEAN = [
    "assert 1 == 2",
    "SELECT item.id, item.price FROM item WHERE item.cart_id = ? ORDER BY item.id",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "expected 3 tokens, got 4",
    "https://api.example.com/v1/users",
]


@pytest.mark.parametrize(("secret", "text"), CORPUS, ids=[f"secret{i}" for i in range(len(CORPUS))])
def test_every_secret_of_the_corpus_is_removed(secret: str, text: str) -> None:
    redacted = Redactor()(text)
    assert secret not in redacted, redacted
    assert redacted != text


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_messages_are_left_alone(text: str) -> None:
    assert Redactor(user="nobody-here", host="no-such-host")(text) == text


def test_user_host_home_and_outside_paths_are_removed() -> None:
    redact = Redactor(root="/home/alice/src/shop", user="alice", host="alices-laptop")
    text = (
        "FileNotFoundError: /home/alice/src/shop/tests/data.json; /home/alice/.cache/x.db; "
        "/opt/company-secret-project/lib/util.py; alice@alices-laptop"
    )
    out = redact(text)
    assert "alice" not in out and "company-secret-project" not in out
    assert "tests/data.json" in out and ".../x.db" in out and ".../util.py" in out and ".cache" not in out


def test_extra_patterns_from_the_user() -> None:
    assert Redactor(extra=(r"ACME-\d{6}",))("order ACME-123456 failed") == "order [redacted] failed"


def policy(anonymity: str, key: bytes = b"k" * 32, **redact: str) -> PrivacyPolicy:
    return PrivacyPolicy(anonymity, key, Redactor(**redact))  # type: ignore[arg-type]


def report_with_secrets() -> list[dict[str, object]]:
    run, tests = make_report(["failed", "passed"])
    tests[0]["failure"]["message"] = "AssertionError: token=abcd1234efgh for jane@example.com"
    tests[0]["params"] = {"url": "https://x.example.com/?key=1"}
    tests[1]["db_queries"] = [
        {
            "sql": "SELECT 1 WHERE email = 'bob@example.com'",
            "fingerprint": "f",
            "kind": "SELECT",
            "phase": "call",
            "database": "default",
            "count": 1,
            "total_duration_ms": 0.1,
            "params": ["password=pw1"],
        }
    ]
    tests[1]["network"] = [
        {
            "kind": "http",
            "scheme": "https",
            "host": "api.example.com",
            "port": 443,
            "url": "https://api.example.com/a?sig=zz",
            "loopback": False,
            "phase": "call",
            "count": 1,
        }
    ]
    tests[1]["net_urls"] = ["https://api.example.com/a?sig=zz"]
    run["environment"]["ci"] = {
        "provider": "github",
        "build_id": "7",
        "build_url": "https://github.com/acme/shop/actions/runs/7",
        "branch": "main",
        "commit": "abc123",
        "pr": "12",
    }
    return [*tests, run]


def test_the_payload_is_redacted_and_the_records_are_untouched() -> None:
    records = report_with_secrets()
    before = copy.deepcopy(records)
    sent = json.dumps(policy("named").payload(records))
    for secret in ("abcd1234efgh", "jane@example.com", "key=1", "bob@example.com", "pw1", "sig=zz"):
        assert secret not in sent
    assert records == before


def test_anonymous_projects_get_a_stable_keyed_pseudonym() -> None:
    records = report_with_secrets()
    first = policy("anonymous").payload(records)[-1]
    again = policy("anonymous").payload(records)[-1]
    other_key = policy("anonymous", key=b"x" * 32).payload(records)[-1]
    assert first["project"] == again["project"] != other_key["project"]
    assert first["project"].startswith("anon-") and first["vendor"] is None
    assert "shop" not in json.dumps(first) and "acme" not in json.dumps(first)
    ci = first["environment"]["ci"]
    assert ci["build_url"] is None and ci["commit"] != "abc123" and ci["branch"] != "main"
    assert first["environment"]["git"]["commit"] == again["environment"]["git"]["commit"] != "abc123"


def test_keep_vendor_hashes_only_the_name_and_named_keeps_both() -> None:
    records = report_with_secrets()
    kept = policy("keep-vendor").payload(records)[-1]
    assert kept["vendor"] == "acme" and kept["project"].startswith("anon-")
    named = policy("named").payload(records)[-1]
    assert (named["vendor"], named["project"]) == ("acme", "shop")
    assert named["environment"]["ci"]["build_url"].startswith("https://github.com/acme/shop")
    assert named["environment"]["host"] != records[-1]["environment"]["host"]  # keyed, always


def test_the_key_lives_in_the_config_dir_and_is_made_once(tmp_path: Path) -> None:
    key = user_key(tmp_path)
    assert user_key(tmp_path) == key and len(key) == 32
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    assert pseudonym(key, "acme/shop") == pseudonym(user_key(tmp_path), "acme/shop")


def test_generic_account_names_are_not_hunted_through_test_names() -> None:
    assert Redactor(user="root", host="localhost")("test_root_cause on localhost") == "test_root_cause on localhost"
    assert Redactor(user="jdoe42", host="jdoe-laptop")("jdoe42 on jdoe-laptop") == "[user] on [host]"


def test_a_real_payload_names_no_user_host_or_home(pytester: pytest.Pytester) -> None:
    import getpass
    import socket

    home, user, host = str(Path.home()), getpass.getuser(), socket.gethostname()
    pytester.makepyfile(
        test_leaky=f"""
        def test_leak():
            assert 0, "home {home}/secret.txt user {user}@{host} cwd {pytester.path}/x"
        """
    )
    pytester.runpytest_subprocess("--suitescope", "--suitescope-dry-run", "-p", "no:randomly")
    (payload,) = (pytester.path / ".telemetry").glob("*.payload.ndjson")
    text = payload.read_text()
    assert home not in text and str(pytester.path) not in text
    for name in (user, host):
        if name.lower() not in ("root", "localhost") and len(name) >= 3:
            assert name not in text
