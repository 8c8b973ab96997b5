"""The audit log: who changed what, when (SPEC §2)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cetracker.db import Database

if TYPE_CHECKING:
    import pandas as pd


def record(
    cur: Any,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: object = "",
    detail: dict[str, Any] | str | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction."""
    text = (
        detail
        if isinstance(detail, str) or detail is None
        else json.dumps(detail, default=str, ensure_ascii=False)
    )
    cur.execute(
        "INSERT INTO audit_log (actor, action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?)",
        [actor, action, entity, str(entity_id), text],
    )


def log(
    db: Database,
    actor: str,
    action: str,
    entity: str = "",
    entity_id: object = "",
    detail: dict[str, Any] | str | None = None,
) -> None:
    with db.transaction() as cur:
        record(cur, actor, action, entity, entity_id, detail)


def recent(db: Database, *, actor: str = "", action: str = "", limit: int = 500) -> pd.DataFrame:
    return db.frame(
        """SELECT logged_at AS "When", actor AS "Who", action AS "What", entity AS "Entity",
                  entity_id AS "Id", detail AS "Detail"
           FROM audit_log
           WHERE ($actor = '' OR actor = $actor) AND ($action = '' OR action ILIKE $action)
           ORDER BY id DESC LIMIT $limit""",
        {"actor": actor, "action": f"%{action}%" if action else "", "limit": limit},
    )
