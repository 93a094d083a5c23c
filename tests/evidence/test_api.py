"""Uploading evidence, reading it back within the organisation's scope, the public tree-head
history, keys and proofs, and every kind of bad input named by its field."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from chengguan.evidence import verify
from tests.evidence.conftest import PDF, Upload, case_number, photo


def _files(content: bytes, name: str = "f.bin") -> dict:
    return {"file": (name, io.BytesIO(content), "image/jpeg")}


def test_upload_records_file_metadata_and_log_entry(client: TestClient, as_user, upload: Upload) -> None:
    case, content = case_number(), photo()
    item = upload(
        case, content=content, lon="116.05", lat="39.95", device="执法记录仪 DSJ-01",
        collected_at="2026-05-01T09:30:00+08:00", evidence_type="audiovisual",
    )  # fmt: skip
    assert item["sha256"] == hashlib.sha256(content).hexdigest() and item["size"] == len(content)
    assert item["media_type"] == "image/jpeg" and item["collector_name"] == "officer_a1"
    assert item["collected_at"].startswith("2026-05-01T01:30:00") and item["filename"] == "现场照片.jpg"
    res = client.get(f"/api/evidence/{item['id']}/file", headers=as_user("officer_a1"))
    assert res.content == content and res.headers["x-content-sha256"] == item["sha256"]
    listed = client.get("/api/evidence", params={"subject_id": case}, headers=as_user("admin_a")).json()
    assert [i["id"] for i in listed["items"]] == [item["id"]]


def test_other_districts_see_nothing(client: TestClient, as_user, upload: Upload) -> None:
    case = case_number()
    item = upload(case)
    assert client.get(f"/api/evidence/{item['id']}", headers=as_user("admin_b")).status_code == 404
    assert client.get("/api/evidence", params={"subject_id": case}, headers=as_user("admin_b")).json()["total"] == 0
    res = client.post("/api/evidence/bundle", params={"subject_id": case}, headers=as_user("admin_b"))
    assert res.status_code == 404 and res.json()["errors"][0]["field"] == "subject_id"


@pytest.mark.parametrize(
    ("content", "status", "field"),
    [
        (b"", 422, "file"),
        (b"just some text, not evidence", 415, "file"),
        (b"MZ\x90\x00 a windows program", 415, "file"),
    ],
)
def test_bad_files_are_refused_by_their_bytes(
    client: TestClient, as_user, content: bytes, status: int, field: str
) -> None:
    res = client.post(
        "/api/evidence", data={"subject_id": case_number(), "evidence_type": "electronic"},
        files=_files(content, "photo.jpg"), headers=as_user("officer_a1"),
    )  # fmt: skip
    assert res.status_code == status, res.text
    assert res.json()["errors"][0]["field"] == field


def test_too_large_upload_is_413_and_leaves_no_record(
    client: TestClient, as_user, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "evidence_max_mb", 1)
    case = case_number()
    res = client.post(
        "/api/evidence", data={"subject_id": case, "evidence_type": "documentary"},
        files=_files(PDF + b"0" * 2**20), headers=as_user("officer_a1"),
    )  # fmt: skip
    assert res.status_code == 413 and res.json()["errors"][0]["field"] == "file"
    assert client.get("/api/evidence", params={"subject_id": case}, headers=as_user("admin_a")).json()["total"] == 0


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"evidence_type": "rumour"}, "evidence_type"),
        ({"lon": "116.1"}, "lat"),
        ({"collected_at": "2026-05-01T09:30:00"}, "collected_at"),
        ({"subject_type": "Case!"}, "subject_type"),
        ({"org_id": "999999"}, "org_id"),
    ],
)
def test_bad_metadata_names_its_field(client: TestClient, as_user, form: dict, field: str) -> None:
    data = {"subject_id": case_number(), "evidence_type": "physical", **form}
    res = client.post("/api/evidence", data=data, files=_files(photo()), headers=as_user("officer_a1"))
    assert res.status_code in (404, 422), res.text
    assert res.json()["errors"][0]["field"] == field


def test_writing_into_another_district_is_forbidden(client: TestClient, as_user, city) -> None:
    data = {
        "subject_id": case_number(),
        "evidence_type": "physical",
        "org_id": str(city.org["A"]),
    }  # above A1: seen, not writable
    res = client.post("/api/evidence", data=data, files=_files(photo()), headers=as_user("officer_a1"))
    assert res.status_code == 403


def test_public_history_keys_and_proofs_verify(client: TestClient, as_user, upload: Upload) -> None:
    first = upload(case_number())
    head1 = client.post("/api/evidence/sth", headers=as_user("admin_a")).json()
    second = upload(case_number())
    head2 = client.post("/api/evidence/sth", headers=as_user("admin_a")).json()
    assert head2["tree_size"] > second["log_index"] >= head1["tree_size"] > first["log_index"]

    keys = {k["key_id"]: verify.decode_hash(k["public_key"], "key") for k in client.get("/api/evidence/keys").json()}
    history = client.get("/api/evidence/sth", params={"since_size": head1["tree_size"]}).json()["items"]
    assert history[0]["tree_size"] == head1["tree_size"] and history[-1] == head2
    for head in (head1, head2):
        verify.TreeHead.from_json(head).verify(keys[head["key_id"]])

    proof = client.get(
        "/api/evidence/proof/inclusion", params={"index": first["log_index"], "tree_size": head1["tree_size"]}
    ).json()
    assert proof["root_hash"] == head1["root_hash"]
    verify.verify_inclusion(
        first["log_index"], head1["tree_size"], verify.decode_hash(proof["leaf_hash"]),
        [verify.decode_hash(h) for h in proof["proof"]], verify.decode_hash(head1["root_hash"]),
    )  # fmt: skip
    cons = client.get(
        "/api/evidence/proof/consistency", params={"first": head1["tree_size"], "second": head2["tree_size"]}
    ).json()
    verify.verify_consistency(
        head1["tree_size"], head2["tree_size"], [verify.decode_hash(h) for h in cons["proof"]],
        verify.decode_hash(head1["root_hash"]), verify.decode_hash(head2["root_hash"]),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("inclusion", {"index": 10**9}, "index"),
        ("inclusion", {"index": 0, "tree_size": 10**12}, "tree_size"),
        ("inclusion", {"index": -1}, "index"),
        ("inclusion", {"index": "x"}, "index"),
        ("consistency", {"first": 1, "second": 10**12}, "second"),
        ("consistency", {"first": 0}, "first"),
        ("consistency", {"first": 10**12}, "first"),
    ],
)
def test_bad_proof_requests_are_refused(
    client: TestClient, as_user, upload: Upload, path: str, params: dict, field: str
) -> None:
    upload(case_number())
    client.post("/api/evidence/sth", headers=as_user("admin_a"))
    res = client.get(f"/api/evidence/proof/{path}", params=params)
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["field"] == field


def test_a_size_not_yet_signed_is_named_as_such(client: TestClient, as_user, upload: Upload) -> None:
    client.post("/api/evidence/sth", headers=as_user("admin_a"))
    item = upload(case_number())
    res = client.get(
        "/api/evidence/proof/inclusion", params={"index": item["log_index"], "tree_size": item["log_index"] + 1}
    )
    assert res.status_code == 422 and "not yet covered by a signed tree head" in res.json()["detail"]


def test_bundle_round_trip(client: TestClient, as_user, upload: Upload, tmp_path) -> None:
    case = case_number()
    photos = [upload(case, evidence_type="audiovisual"), upload(case, content=PDF + b"%%EOF", evidence_type="record")]
    res = client.post("/api/evidence/bundle", params={"subject_id": case}, headers=as_user("officer_a1"))
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    path = tmp_path / "bundle.zip"
    path.write_bytes(res.content)
    names = zipfile.ZipFile(path).namelist()
    assert {f"files/{p['sha256']}" for p in photos} <= set(names) and "verify.py" in names
    key = client.get("/api/evidence/keys").json()[-1]["key_id"]
    verdict = verify.verify_bundle(str(path), [key])
    assert verdict.ok, verdict.text()
    assert sum("matches its record" in c for c in verdict.checks) == 2
