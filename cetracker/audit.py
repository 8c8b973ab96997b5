"""The audit log: who changed what, when (SPEC §2)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from cetracker.rules.cells import written_day
from cetracker.store.db import Database

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
    with db.transaction(reports=False) as cur:
        record(cur, actor, action, entity, entity_id, detail)


def recent(
    db: Database,
    *,
    actor: str = "",
    action: str = "",
    entity: str = "",
    since: date | None = None,
    until: date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Newest entries first, filtered; each edit's changes spelled out as "before → after"."""
    frame = db.frame(
        """SELECT logged_at AS "When", actor AS "Who", action AS "What", entity AS "Entity",
                  entity_id AS "Id", detail AS "Detail"
           FROM audit_log
           WHERE ($actor = '' OR actor = $actor) AND ($action = '' OR action ILIKE $action)
             AND ($entity = '' OR entity = $entity)
             AND ($since::DATE IS NULL OR logged_at >= $since::DATE)
             AND ($until::DATE IS NULL OR logged_at < $until::DATE + INTERVAL 1 DAY)
           ORDER BY audit_log.id DESC LIMIT $limit""",
        {
            "actor": actor,
            "action": f"%{action}%" if action else "",
            "entity": entity,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    frame["Detail"] = [describe_changes(d) for d in frame["Detail"]]
    return frame


def entities(db: Database) -> list[str]:
    return [
        e for (e,) in db.rows("SELECT DISTINCT entity FROM audit_log WHERE entity <> '' ORDER BY 1")
    ]


def history(db: Database, entity: str, entity_id: object, limit: int = 200) -> pd.DataFrame:
    """The audit trail of one row, newest first, each change as "field: before → after"."""
    frame = db.frame(
        """SELECT logged_at AS "When", actor AS "Who", action AS "What", detail
           FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id DESC LIMIT ?""",
        [entity, str(entity_id), limit],
    )
    frame["Changes"] = [describe_changes(d) for d in frame.pop("detail")]
    return frame


def describe_changes(detail: object) -> str:
    """An audit entry's changes in words: "county: Travis → Hays; status: active → inactive"."""
    if not isinstance(detail, str) or not detail:  # None, or NaN from a frame
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return detail
    if "changes" not in data:  # other details: "members: 601; eligible: 74"
        return "; ".join(
            f"{k.replace('_', ' ')}: "
            + (", ".join(map(str, v)) if isinstance(v, list) else str(_as_read(v)))
            for k, v in data.items()
            if v not in (None, "", [])
        )
    parts = []
    for name, (before, after) in data["changes"].items():
        label = name.replace("_", " ")
        was = "—" if before in (None, "") else _as_read(before)
        parts.append(f"{label}: {was} → {_as_read(after)}")
    return "; ".join(parts)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")


def _as_read(value: object) -> object:
    """A stored value as the pages write it: an ISO date (the log keeps them so) as
    03/01/2024, with its time as 03/01/2024 14:05."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return written_day(datetime.fromisoformat(value))
        except ValueError:  # shaped like a date, not one ("2024-13-45")
            pass
    return value
