"""Reads and small writes of the chain risk tables for the CLI and the admin API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from pos.clock import Clock
from sync.schemas import StoreAlert, StoreAlerts
from sync.server import models as m


def set_place(engine: Engine, store_id: str, lat: float, lon: float, city: str, tz: str) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"{lat}, {lon} is not a place on Earth; give degrees, e.g. 31.23 121.47")
    with engine.begin() as conn:
        conn.execute(delete(m.store_places).where(m.store_places.c.store_id == store_id))
        conn.execute(
            insert(m.store_places).values(store_id=store_id, lat=lat, lon=lon, city=city, tz=tz)
        )


def alerts(engine: Engine, store_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    t = m.risk_alerts
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if store_id:
        q = q.where(t.c.store_id == store_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def store_alerts(engine: Engine, store_id: str, limit: int = 100) -> StoreAlerts:
    """What a store's own terminals may see: the alerts about that store."""
    return StoreAlerts(
        alerts=[
            StoreAlert(
                id=a["id"],
                rule=a["rule"],
                terminal_id=a["terminal_id"],
                subject=a["subject"],
                value=a["value"],
                created_at=a["created_at"],
                detail=json.loads(a["detail"] or "{}"),
            )
            for a in alerts(engine, store_id, limit)
        ]
    )


def hotlist(engine: Engine, clock: Clock) -> list[dict[str, Any]]:
    t = m.risk_hotlist
    now_ms = int(clock.now().timestamp() * 1000)
    with engine.connect() as conn:
        rows = conn.execute(
            select(t).where(t.c.expires_ms > now_ms).order_by(t.c.subject, t.c.value)
        ).mappings()
        return [
            {
                **dict(r),
                "expires": datetime.fromtimestamp(r["expires_ms"] / 1000, UTC).isoformat(),
            }
            for r in rows
        ]
