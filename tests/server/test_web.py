"""Dashboard pages through the app: what they show, that names stay text, and that private means private."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from tests.server.conftest import Server
from tests.server.factory import add_host, add_query, make_report, ndjson

EVIL = "test_<script>alert(1)</script>[<b>x</b>]"


def seed(server: Server, token: str = "pub_ingest") -> None:
    start = datetime.now(timezone.utc) - timedelta(days=3)
    for number, statuses in enumerate([["passed", "passed"], ["failed", "passed"], ["passed", "passed"]]):
        run, tests = make_report(
            statuses, names=[EVIL, "test_ok"], commit="c1", started=start + timedelta(hours=number)
        )
        assert server.post_run(ndjson(run, tests), token=token).status_code == 202
    server.drain()


def test_the_overview_of_a_public_project(server: Server) -> None:
    seed(server)
    page = server.client.get("/p/oss/lib")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert(1)</script>" not in html  # the name is text, never markup
    assert "test_&lt;script&gt;alert(1)&lt;/script&gt;" in html
    charts = json.loads(
        re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S).group(1)
    )
    assert sum(charts["outcomes"][1]) == 5 and sum(charts["outcomes"][2]) == 1  # passed and failed results
    assert len(charts["outcomes"]) == 4 and len(charts["duration"]) == 3
    assert html.count('class="chart"') == 4 and charts["coverage"] == [[], []]  # these runs measured none
    assert server.client.get("/static/uPlot.iife.min.js").status_code == 200
    assert "oss/lib" in server.client.get("/").text


def test_a_private_project_needs_its_token_then_a_cookie_opens_it(server: Server) -> None:
    seed(server, token="ingest")
    refused = server.client.get("/p/acme/shop")
    assert refused.status_code == 404 and 'name="token"' in refused.text and "Latest runs" not in refused.text
    wrong = server.client.post(
        "/login",
        content=f"token={server.tokens['other_read']}&project=acme/shop",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert wrong.status_code == 403 and "does not open acme/shop" in wrong.text and "set-cookie" not in wrong.headers
    assert server.client.get("/p/acme/shop").status_code == 404  # another project's token opens nothing
    server.client.cookies.set("suitescope_token", "sst_revoked_or_never_made")
    stale = server.client.get("/p/acme/shop")  # a stale cookie: the form again, not a 401
    assert stale.status_code == 404 and 'name="token"' in stale.text
    assert server.client.get("/p/oss/lib").status_code == 200  # and public pages still open
    server.client.cookies.clear()
    right = server.client.post(
        "/login",
        content=f"token={server.tokens['read']}&project=acme/shop",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert right.status_code == 303 and "httponly" in right.headers["set-cookie"].lower()
    opened = server.client.get("/p/acme/shop")
    assert opened.status_code == 200 and "Latest runs" in opened.text
    assert "acme/shop" in server.client.get("/").text
    # the cookie reads; it never writes
    run, tests = make_report()
    posted = server.client.post(
        "/api/v1/runs", content=ndjson(run, tests), headers={"Content-Type": "application/x-ndjson"}
    )
    assert posted.status_code == 401


def test_filters_are_kept_in_the_url(server: Server) -> None:
    seed(server)
    html = server.client.get("/p/oss/lib", params={"branch": "nope", "days": 7}).text
    assert 'value="nope"' in html and '<option value="7" selected>' in html
    assert html.split("Latest runs")[1].split("</table>")[0].count("<tr>") == 1  # the header: no run on that branch


def test_run_and_test_pages_link_to_each_other_and_keep_names_as_text(server: Server) -> None:
    seed(server)
    overview = server.client.get("/p/oss/lib").text
    run_link = re.search(r'href="(/runs/[^"]+)"', overview).group(1)
    run_page = server.client.get(run_link)
    assert (
        run_page.status_code == 200 and "Failures" in run_page.text and "<script>alert(1)</script>" not in run_page.text
    )
    test_link = re.search(r'href="(/tests/[0-9a-f]{32})">[^<]*test_&lt;script', run_page.text).group(1)
    test_page = server.client.get(test_link)
    assert test_page.status_code == 200 and 'class="strip"' in test_page.text
    assert test_page.text.count('class="cell ') == 3  # one per run of the test
    assert "test_&lt;script&gt;" in test_page.text and "<script>alert(1)</script>" not in test_page.text
    flaky_link = re.search(r'<a href="(/tests/[0-9a-f]{32})">[^<]*test_&lt;script', overview)
    assert flaky_link is not None  # the flaky test links to its page


def test_run_and_test_pages_of_a_private_project_are_404_without_its_token(server: Server) -> None:
    seed(server, token="ingest")
    with server.state.store.read() as conn:
        run_id = conn.exec_driver_sql("SELECT run_id FROM runs LIMIT 1").scalar_one()
        test_id = conn.exec_driver_sql("SELECT test_id FROM tests LIMIT 1").scalar_one()
    assert server.client.get(f"/runs/{run_id}").status_code == 404
    assert server.client.get(f"/tests/{test_id}").status_code == 404
    reader = {"Authorization": f"Bearer {server.tokens['read']}"}
    assert server.client.get(f"/runs/{run_id}", headers=reader).status_code == 200
    assert server.client.get(f"/tests/{test_id}", headers=reader).status_code == 200


def test_the_environments_page_of_the_ecosystem_and_of_a_project(server: Server) -> None:
    from suitescope.server.store.accounts import create_project, create_token

    with server.state.store.begin() as conn:
        anonymous = create_project(conn, "anon-1234abcd", anonymous=True).id
        anon_token = create_token(conn, "ingest", anonymous)
    for python, token in (
        ("3.12.1", server.tokens["pub_ingest"]),
        ("3.13.0", server.tokens["pub_ingest"]),
        ("3.11.2", anon_token),
    ):
        run, tests = make_report(python=python)
        answer = server.client.post(
            "/api/v1/runs",
            content=ndjson(run, tests),
            headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 202
    server.send(python="3.10.0")  # private: not in the ecosystem's figures
    server.drain()
    html = server.client.get("/environments").text
    charts = json.loads(
        re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S).group(1)
    )
    assert len(charts["split"]) == 1 + 3  # x, then 3.11, 3.12, 3.13
    assert "3.10" not in html and "(anonymous)" in html and "anon-1234abcd" not in html
    assert "oss/lib" in html
    by_os = server.client.get("/environments", params={"by": "os", "project": "oss/lib"}).text
    assert '<option value="os" selected>' in by_os and "Linux" in by_os
    assert server.client.get("/environments", params={"project": "acme/shop"}).status_code == 404


def test_the_failures_page_groups_by_fingerprint_and_links_tests(server: Server) -> None:
    seed(server)
    html = server.client.get("/p/oss/lib/failures").text
    assert "1 times in 1 test" in html and "assert 0 == 0" in html
    assert re.search(r'<a href="/tests/[0-9a-f]{32}">[^<]*test_&lt;script', html)
    assert "<script>alert(1)</script>" not in html
    assert server.client.get("/p/acme/shop/failures").status_code == 404
    week = server.client.get("/p/oss/lib/failures", params={"days": 1}).text  # the seeded runs are 3 days old
    assert "No failures recorded." in week
    assert "assert 0 == 0" in server.client.get("/p/oss/lib/failures", params={"days": 7}).text
    found = server.client.get("/api/v1/findings/failures", params={"project": "oss/lib", "days": 1}).json()
    assert found["groups"] == [] and found["since"]


def seed_effects(server: Server) -> None:
    """Four runs of four tests: a slow one getting slower, one with an N+1 query, one calling another host, and
    one (named like markup) failing in the third run."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    names = ["test_slow", "test_n1", "test_net", EVIL]
    for number in range(4):
        statuses = ["passed", "passed", "passed", "failed" if number == 2 else "passed"]
        run, tests = make_report(
            statuses,
            names=names,
            durations=[50.0 + 10 * number, 2.0, 3.0, 1.0],
            started=start + timedelta(hours=number),
        )
        add_query(tests[1], "SELECT * FROM item WHERE id = ?", "f1", 8, n_plus_one=True)
        add_query(tests[1], "SELECT * FROM cart", "f2", 1)
        add_host(tests[2], "api.example.com", count=2)
        add_host(tests[2], "127.0.0.1", loopback=True)
        assert server.post_run(ndjson(run, tests), token="pub_ingest").status_code == 202
    server.drain()


def names_in(html: str) -> list[str]:
    rows = html.split('<table id="tests">')[1].split("</table>")[0]
    return re.findall(r'<a href="/tests/[0-9a-f]{32}">([^<]*)</a>', rows)


def test_the_tests_table_sorts_filters_and_draws_sparklines(server: Server) -> None:
    seed_effects(server)
    html = server.client.get("/p/oss/lib/tests").text
    assert names_in(html)[0].endswith("test_slow")  # slowest first by default
    assert html.count("<polyline") == 4 and "<script>alert(1)</script>" not in html
    line = re.search(r'<polyline points="([^"]+)"', html).group(1).split()
    assert len(line) == 4 and float(line[0].split(",")[1]) > float(line[-1].split(",")[1])  # rising: y falls
    assert names_in(server.client.get("/p/oss/lib/tests", params={"sort": "queries"}).text)[0].endswith("test_n1")
    assert names_in(server.client.get("/p/oss/lib/tests", params={"sort": "flakiest"}).text)[0].endswith("&lt;/b&gt;]")
    assert [n.split("::")[1] for n in names_in(server.client.get("/p/oss/lib/tests?has=network").text)] == ["test_net"]
    assert len(names_in(server.client.get("/p/oss/lib/tests?has=n_plus_one").text)) == 1
    assert len(names_in(server.client.get("/p/oss/lib/tests?contains=%3Cscript").text)) == 1
    kept = server.client.get("/p/oss/lib/tests", params={"sort": "memory", "contains": "test_", "runs": 10}).text
    assert (
        'value="test_"' in kept
        and "<option selected>memory</option>" in kept
        and 'href="?sort=name&amp;contains=test_' in kept
    )
    twin = server.client.get("/api/v1/tests", params={"project": "oss/lib", "sort": "network"}).json()
    assert (
        twin["runs"] == 4 and twin["tests"][0]["nodeid"].endswith("test_net") and twin["tests"][0]["net_external"] == 8
    )
    assert twin["tests"][0]["sparkline"] == [3.0, 3.0, 3.0, 3.0]
    bad = server.client.get("/api/v1/tests", params={"project": "oss/lib", "sort": "bogus"})
    assert bad.status_code == 422 and "sort" in bad.text


def test_the_test_page_shows_queries_n_plus_one_and_hosts(server: Server) -> None:
    seed_effects(server)
    table = server.client.get("/p/oss/lib/tests?sort=name").text
    links = {
        name.split("::")[1]: link for link, name in re.findall(r'<a href="(/tests/[0-9a-f]{32})">([^<]*)</a>', table)
    }
    n1 = server.client.get(links["test_n1"]).text
    assert "N+1: 1 shape" in n1 and n1.count('<tr class="n1">') == 1 and "SELECT * FROM item WHERE id = ?" in n1
    net = server.client.get(links["test_net"]).text
    hosts = net.split('<table id="hosts">')[1].split("</table>")[0]
    assert hosts.index("api.example.com") < hosts.index("127.0.0.1") and hosts.count("not loopback") == 1
    twin = server.client.get("/api/v1" + links["test_net"]).json()
    assert {(h["host"], h["count"]) for h in twin["network"]} == {("api.example.com", 8), ("127.0.0.1", 4)}


def test_the_run_page_lists_what_changed_since_the_previous_run_of_its_branch(server: Server) -> None:
    seed_effects(server)  # EVIL fails in the third run only
    with server.state.store.read() as conn:
        third, fourth = [r[0] for r in conn.exec_driver_sql("SELECT run_id FROM runs ORDER BY started_at").all()[2:]]
    changed = server.client.get(f"/runs/{third}").text.split('<table id="changes">')[1].split("</table>")[0]
    assert "newly failing (1)" in changed and "test_&lt;script&gt;" in changed and "fixed" not in changed
    fixed = server.client.get(f"/runs/{fourth}").text.split('<table id="changes">')[1].split("</table>")[0]
    assert "fixed (1)" in fixed and "newly failing" not in fixed
