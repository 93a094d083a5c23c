"""Imports every domain's models so ``Base.metadata`` is the whole schema (Alembic, tests)."""

from chengguan import audit
from chengguan.auth import models as auth_models
from chengguan.db import Base
from chengguan.orgs import models as orgs_models

__all__ = ["Base", "audit", "auth_models", "orgs_models"]
