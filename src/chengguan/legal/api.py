"""HTTP endpoints of the legal domain."""

from fastapi import APIRouter

router = APIRouter(tags=["legal"])
