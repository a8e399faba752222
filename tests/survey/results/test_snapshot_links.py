"""Every link between the results pages carries the snapshot being viewed: from the
overview of an older snapshot, clicking through the sector pages, the agencies' and
sub-units' pages, the rankings, the page of all estimates and back, and every download
offered on the way, stays on that snapshot (not the latest one)."""

from __future__ import annotations

import html as markup
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from survey.results.models import ResultSnapshot
from tests.survey.results.test_overview import two_months  # noqa: F401  (fixture)
from tests.survey.results.test_results import province  # noqa: F401  (fixture)

LINK = re.compile(r'href="(/staff/results/[^"]*)"')
DOWNLOAD = (".csv", ".xlsx", ".pdf", ".zip")
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)


def main_links(page: str) -> list[str]:
    """The results links of a page's main part (the site's own menu left out)."""
    main = page[page.index('<main id="main">'):page.index("</main>")]
    return [markup.unescape(href) for href in LINK.findall(main)]


def of_snapshot(link: str, snapshot_id: int) -> bool:
    parts = urlsplit(link)
    at = re.match(r"^/staff/results/snapshots/(\d+)", parts.path)
    if at:
        return int(at.group(1)) == snapshot_id
    return parse_qs(parts.query).get("snapshot") == [str(snapshot_id)]


def kind(link: str) -> str:
    path = urlsplit(link).path.removeprefix("/staff/results")
    if path.endswith(DOWNLOAD):
        return "download"
    if path in ("", "/"):
        return "overview"
    return path.strip("/").split("/")[0]


def crawl(client: Any, snapshot: ResultSnapshot, limit: int = 80) -> dict[str, set[str]]:
    """Follow every results link from the snapshot's overview (pages and downloads, each
    once): each answers 200, each link carries the snapshot, each page is of the snapshot
    (its period in the title, or its own page). The links reached, by kind of page."""
    start = f"/staff/results/?snapshot={snapshot.id}"
    queue, seen = [start], {start}
    reached: dict[str, set[str]] = {}
    while queue:
        url = queue.pop(0)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.location)
        reached.setdefault(kind(url), set()).add(url)
        if kind(url) == "download":
            continue
        page = response.get_data(as_text=True)
        if kind(url) != "snapshots":
            assert snapshot.period in H1.search(page).group(1), url  # type: ignore[union-attr]
        for link in main_links(page):
            if urlsplit(link).path == "/staff/results/snapshots":
                continue  # the list of snapshots, not a page of one
            assert of_snapshot(link, snapshot.id), (url, link)
            if link not in seen and len(seen) < limit:
                seen.add(link)
                queue.append(link)
    return reached


def test_an_older_snapshots_pages_lead_to_each_other(client: Any, login: Any, db: Any,
                                                     two_months: dict[str, Any]) -> None:  # noqa: F811
    snaps = {s.period: s for s in db.session.query(ResultSnapshot)}
    september = snaps["2026-09"]
    assert snaps["2026-10"].id > september.id  # the latest is another one
    login("tinh")
    reached = crawl(client, september)
    assert {"overview", "rankings", "units", "snapshots", "download"} <= set(reached), reached
    assert any(re.search(r"/units/\d+\?", u) for u in reached["units"])


def test_without_a_snapshot_the_links_carry_the_latest(client: Any, login: Any, db: Any,
                                                       two_months: dict[str, Any]) -> None:  # noqa: F811
    latest = max(db.session.query(ResultSnapshot), key=lambda s: s.id)
    login("tinh")
    links = main_links(client.get("/staff/results/").get_data(as_text=True))
    assert links and all(of_snapshot(link, latest.id) for link in links
                         if urlsplit(link).path != "/staff/results/snapshots")


def test_the_overview_of_an_unknown_snapshot_is_a_404(client: Any, login: Any, db: Any,
                                                      two_months: dict[str, Any]) -> None:  # noqa: F811
    login("tinh")
    assert client.get("/staff/results/?snapshot=999999").status_code == 404
    assert client.get("/staff/results/").status_code == 200
