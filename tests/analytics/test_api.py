"""/api/analytics: who may read it, and that each user sees only their own area's figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.analytics.conftest import SOURCE, Synthetic
from tests.factories import SampleCity

from chengguan.config import Settings


@pytest.fixture
def lake_client(app, synced: Settings, client: TestClient) -> Iterator[TestClient]:
    """The app reading the synced test lake."""
    original = app.state.settings
    app.state.settings = synced
    yield client
    app.state.settings = original


def cells_of(res) -> dict[str, int]:
    assert res.status_code == 200, res.text
    return {cell: n for cell, n in res.json()["rows"]}


def test_each_user_sees_only_their_subtree(lake_client: TestClient, as_user, synthetic: Synthetic) -> None:
    everything = cells_of(
        lake_client.get("/api/analytics/counts/cell", params={"source": SOURCE}, headers=as_user("admin_city"))
    )
    in_a = cells_of(
        lake_client.get("/api/analytics/counts/cell", params={"source": SOURCE}, headers=as_user("analyst_a"))
    )
    assert in_a == {c: n for c, n in everything.items() if c.startswith("990101")}
    assert set(everything) - set(in_a)  # 乙区 has reports analyst_a does not see
    assert sum(everything.values()) == (synthetic.frame["source"] == SOURCE).sum()


def test_an_area_outside_the_users_own_is_refused(lake_client: TestClient, as_user, city: SampleCity) -> None:
    headers = as_user("analyst_a")
    own = lake_client.get("/api/analytics/heatmap", params={"area": city.org["A1"], "source": SOURCE}, headers=headers)
    assert own.status_code == 200 and own.json()["rows"]
    above = lake_client.get("/api/analytics/heatmap", params={"area": city.org["city"]}, headers=headers)
    assert above.status_code == 403  # the city is visible to a district user, its figures are not
    beside = lake_client.get("/api/analytics/heatmap", params={"area": city.org["B"]}, headers=headers)
    assert beside.status_code == 404


@pytest.mark.parametrize(("user", "status"), [("supervisor_a", 200), ("shift_leader_a", 200), ("clerk_a", 403)])
def test_who_may_read_analyses(lake_client: TestClient, as_user, user: str, status: int) -> None:
    assert lake_client.get("/api/analytics/metrics", headers=as_user(user)).status_code == status


def test_every_analysis_answers(lake_client: TestClient, as_user) -> None:
    headers = as_user("admin_city")
    period = {"source": SOURCE, "start": "2025-06-01", "end": "2025-07-01"}
    for path, params in [
        ("/api/analytics/day-kinds", period),
        ("/api/analytics/top/street", {"source": SOURCE, "limit": 3}),
        ("/api/analytics/hotspots", {"source": SOURCE}),
        ("/api/analytics/hot-types", {**period, "by": "major"}),
        ("/api/analytics/cube", {"source": SOURCE, "limit": 5}),
        ("/api/analytics/compare", {"source": SOURCE, "period": "quarter", "at": "2025-11-11", "by": "major"}),
    ]:
        res = lake_client.get(path, params=params, headers=headers)
        assert res.status_code == 200, (path, res.text)
        assert res.json()["rows"], path
    bad = lake_client.get("/api/analytics/hot-types", params={"source": SOURCE}, headers=headers)
    assert bad.status_code == 422 and "start" in bad.text
