"""HTTP endpoints of the intake domain."""

from fastapi import APIRouter

router = APIRouter(tags=["intake"])
