"""Pages travel compressed; static files are cached for a year under a versioned address
(the stylesheet was revalidated on every page, and the citizen pages linked a stylesheet
that did not exist after the restructure)."""

from __future__ import annotations

import gzip
import re
from typing import Any

from survey.collection.services import links
from tests.survey.collection.points import point_with


def linked_assets(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def citizen_page(client: Any, db: Any) -> str:
    point = point_with(db)
    start = client.get(f"/k/{links.create_link(point, 'kiosk').token}")
    return client.get(start.headers["Location"]).get_data(as_text=True)


def test_every_linked_asset_exists_and_is_cached_for_a_year(client: Any, db: Any) -> None:
    assets = linked_assets(citizen_page(client, db)) + \
        linked_assets(client.get("/login").get_data(as_text=True))
    assert any("citizen.css" in a for a in assets) and any("style.css" in a for a in assets)
    assert any("kiosk.js" in a for a in assets)
    for asset in assets:
        assert re.search(r"\?v=[0-9a-f]{12}$", asset), asset
        with client.get(asset) as served:
            assert served.status_code == 200, asset
            cache = served.headers["Cache-Control"]
            assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
            assert "no-store" not in cache


def test_an_unversioned_or_stale_address_is_revalidated(client: Any) -> None:
    for url in ("/static/style.css", "/static/style.css?v=000000000000"):
        with client.get(url) as served:
            assert served.status_code == 200
            assert "max-age=31536000" not in served.headers.get("Cache-Control", "")


def test_pages_are_compressed_for_browsers_that_accept_it(client: Any, db: Any) -> None:
    html = citizen_page(client, db)
    url = re.search(r'action="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    plain = client.get(url)
    assert plain.headers.get("Content-Encoding") is None
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers.get("Vary", "")
    body = gzip.decompress(packed.get_data()).decode()
    assert body.startswith("<!doctype html>") and body.rstrip().endswith("</html>")
    assert abs(len(body) - len(plain.get_data(as_text=True))) < 100  # the same page
    assert len(packed.get_data()) < len(body) / 2
