"""Imports every domain's models so ``Base.metadata`` is the whole schema (Alembic, tests)."""

from chengguan import audit, outbox, revisions, worker
from chengguan.analytics import models as analytics_models
from chengguan.auth import models as auth_models
from chengguan.calendar import models as calendar_models
from chengguan.cases import models as cases_models
from chengguan.db import Base
from chengguan.dispatch import models as dispatch_models
from chengguan.documents import models as documents_models
from chengguan.evidence import models as evidence_models
from chengguan.geo import models as geo_models
from chengguan.intake import models as intake_models
from chengguan.legal import models as legal_models
from chengguan.open311 import models as open311_models
from chengguan.orgs import models as orgs_models
from chengguan.portal import models as portal_models
from chengguan.taxonomy import models as taxonomy_models

__all__ = [
    "Base",
    "analytics_models",
    "audit",
    "auth_models",
    "calendar_models",
    "cases_models",
    "dispatch_models",
    "documents_models",
    "evidence_models",
    "geo_models",
    "intake_models",
    "legal_models",
    "open311_models",
    "orgs_models",
    "outbox",
    "portal_models",
    "revisions",
    "taxonomy_models",
    "worker",
]
