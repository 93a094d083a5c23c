"""HTTP endpoints of the evidence domain."""

from fastapi import APIRouter

router = APIRouter(tags=["evidence"])
