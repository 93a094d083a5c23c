"""The request's unit of work commits before the response is sent: a commit that fails must
surface as an error response, never as a 200 for a write that was lost."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from chengguan.audit import platform_actor
from chengguan.auth.deps import DbSession
from chengguan.errors import install_handlers
from chengguan.orgs.models import Organisation


def test_failed_commit_is_a_409_and_nothing_is_written(app, city, platform_session) -> None:
    probe = FastAPI()
    probe.state.sessionmaker = app.state.sessionmaker
    install_handlers(probe)

    @probe.post("/dup")
    def duplicate(session: DbSession) -> dict[str, bool]:
        session.info["actor"] = platform_actor("probe")
        # no flush here: the unique violation only appears when the dependency commits
        session.add(Organisation(code="990000000000", name="重复", kind="city", path="/x/"))
        session.add(Organisation(code="990000-PROBE", name="探针", kind="city", path="/y/"))
        return {"ok": True}

    res = TestClient(probe).post("/dup")
    assert res.status_code == 409
    assert res.headers["content-type"].startswith("application/problem+json")
    assert platform_session.scalar(select(Organisation).where(Organisation.code == "990000-PROBE")) is None
