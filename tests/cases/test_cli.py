"""`chengguan case …` and `chengguan worker --once` against the test store: the same engine,
acting as a named user, with exit code 2 and the field on refused input."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from chengguan.cli import app

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("cli_store")


def run(*args: str):
    return runner.invoke(app, list(args))


def test_an_extension_requested_and_approved_from_the_command_line(new_event: Callable[[], dict]) -> None:
    eid = str(new_event()["id"])
    offered = run("case", "actions", "event", eid, "--as", "officer_a1")
    assert offered.exit_code == 0, offered.output
    assert re.search(r"^extend\s+延期", offered.output, re.M) and "approval: dispatcher, shift_leader" in offered.output
    asked = run(
        "case", "act", "event", eid, "extend", "--as", "officer_a1",
        "-f", "amount=2", "-f", "unit=working_days", "-f", "reason=等材料",
    )  # fmt: skip
    assert asked.exit_code == 0, asked.output
    request_id = re.search(r"request (\d+) \(extend\) waits for approval", asked.output)
    assert request_id is not None
    approved = run("case", "approve", "event", eid, request_id.group(1), "--as", "dispatcher_a")
    assert approved.exit_code == 0 and "extend: dispatched → dispatched (dispatcher_a)" in approved.output
    timeline = run("case", "timeline", "event", eid, "--as", "clerk_a")
    assert timeline.exit_code == 0 and re.search(r"extend\s+dispatched → dispatched", timeline.output)


def test_refused_input_exits_2_naming_the_field(new_event: Callable[[], dict]) -> None:
    eid = str(new_event()["id"])
    wrong_state = run("case", "act", "event", eid, "verify_pass", "--as", "clerk_a")
    assert wrong_state.exit_code == 2 and "[action]" in wrong_state.output
    bad_field = run("case", "act", "event", eid, "extend", "--as", "officer_a1", "-f", "amount=2", "-f", "unit=weeks")
    assert bad_field.exit_code == 2 and "[fields.unit]" in bad_field.output
    nobody = run("case", "actions", "event", eid, "--as", "nobody")
    assert nobody.exit_code == 2 and "[as]" in nobody.output


def test_the_worker_runs_its_due_jobs_once() -> None:
    out = run("worker", "--once")
    assert out.exit_code == 0, out.output
    assert re.search(r"^deadline_sweep: SweepResult\(", out.output, re.M) and re.search(
        r"^outbox: \d+", out.output, re.M
    )
    assert re.search(r"^lake_sync: \{", out.output, re.M), out.output
    assert re.search(r"^tree_head: ", out.output, re.M), out.output
    assert re.search(r"^planner_statistics: '(optimized|autovacuum)'$", out.output, re.M), out.output
