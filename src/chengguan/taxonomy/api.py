"""HTTP endpoints of the taxonomy domain."""

from fastapi import APIRouter

router = APIRouter(tags=["taxonomy"])
