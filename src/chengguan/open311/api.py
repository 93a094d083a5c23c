"""Open311 GeoReport v2 at /open311/v2/."""

from fastapi import APIRouter

router = APIRouter(tags=["open311"])
