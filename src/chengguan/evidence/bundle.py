"""Export bundle for one subject (a case): its evidence files, their log entries, an inclusion
proof of each against one signed tree head, the signing public key, and the standalone verifier,
in one zip a court can check offline with ``python verify.py BUNDLE --key KEY``."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from chengguan.config import Settings
from chengguan.errors import NotFound
from chengguan.evidence import ledger, service, sth, tree
from chengguan.evidence import verify as verifier
from chengguan.evidence.models import SignedTreeHead, SigningKey
from chengguan.kit.blobstore import BlobStore

README = """证据包 / Evidence bundle ({subject})

manifest.json   the signed tree head, the public key and, per log entry, its inclusion proof
entries/N.json  log entry N exactly as hashed (RFC 8785 canonical JSON)
files/SHA256    the evidence files, named by their SHA-256
verify.py       the verifier (Python 3.11 + the 'cryptography' package; no database needed)

Check it:  python verify.py {name} --key {key_id}
The key must be one the log publishes (GET /api/evidence/keys); compare it before trusting it.
"""


def _head_covering(session: Session, settings: Settings, last_index: int) -> SignedTreeHead:
    """The latest tree head if it covers ``last_index``; otherwise a new one."""
    head = sth.newest(session)
    if head is None or head.tree_size <= last_index:
        head = sth.issue_sth(session, settings)
    return head


def export_bundle(
    session: Session, settings: Settings, store: BlobStore, subject_type: str, subject_id: str, out: IO[bytes]
) -> SignedTreeHead:
    """Write the bundle of ``subject_type:subject_id`` to ``out``; the tree head it is proven
    against. Only evidence and entries the session's organisation may see are included."""
    items, _total = service.list_evidence(session, subject_type, subject_id, limit=10_000)
    subject = service.subject_of(subject_type, subject_id)
    indices = sorted({i.log_index for i in items} | set(ledger.subject_indices(session, subject)))
    if not indices:
        raise NotFound(f"no evidence or log entries for {subject} / 无相关证据", field="subject_id")
    head = _head_covering(session, settings, indices[-1])
    key = session.get(SigningKey, head.key_id)
    assert key is not None  # a foreign key of the tree head
    manifest = {
        "format": verifier.BUNDLE_FORMAT,
        "subject": subject,
        "sth": sth.sth_json(head),
        "public_key": verifier.b64(key.public_key),
        "entries": [
            {"index": i, "inclusion_proof": [verifier.b64(h) for h in tree.inclusion_proof(session, i, head.tree_size)]}
            for i in indices
        ],
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for i in indices:
            archive.writestr(f"entries/{i}.json", ledger.get(session, i).entry)
        for item in {i.sha256: i for i in items}.values():
            with service.open_file(store, item) as src, archive.open(f"files/{item.sha256}", "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        archive.write(Path(verifier.__file__), "verify.py")
        archive.writestr("README.txt", README.format(subject=subject, name="bundle.zip", key_id=head.key_id))
    return head
