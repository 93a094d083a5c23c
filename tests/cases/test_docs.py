"""docs/WORKFLOWS.md describes the shipped flows as they are (regenerate with
`chengguan case flows > docs/WORKFLOWS.md`)."""

from __future__ import annotations

from pathlib import Path

from chengguan.cases.flow import document, load_shipped, parse, shipped_keys

DOC = Path(__file__).resolve().parents[2] / "docs" / "WORKFLOWS.md"


def test_the_workflow_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == document()


def test_every_shipped_flow_parses_and_every_state_is_reachable() -> None:
    for key in shipped_keys():
        flow = parse(load_shipped(key))
        reached, frontier = {flow.initial}, [flow.initial]
        while frontier:
            for action in flow.from_state(frontier.pop()):
                for target in action.targets:
                    if target not in reached:
                        reached.add(target)
                        frontier.append(target)
        assert reached == set(flow.states), (key, set(flow.states) - reached)
