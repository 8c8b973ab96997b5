"""Edit forms for the office's records: one field widget per kind, and "what did the editor load".

A save compares the row in the database with the row as this editor loaded it,
so the loaded copy is kept in the session until the save succeeds or the user
reloads; the form's widgets are keyed by a generation number that a reload bumps.
After any change made through a form (here, or a page's own form) the page runs again
at once with that form fresh, and says what was done there (``after_save``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NoReturn

import streamlit as st

from cetracker import audit, entities
from cetracker.errors import CetrackerError
from cetracker.rules import compute
from cetracker.ui import session

# The date pickers span the CE years a record may have.
FIRST_DAY = date(compute.FIRST_CE_YEAR, 1, 1)
LAST_DAY = date(compute.LAST_CE_YEAR, 12, 31)


def loaded(key: str, load: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
    """The row as this session first loaded it for ``key`` (kept until ``forget``)."""
    state = f"loaded_{key}"
    if state not in st.session_state:
        st.session_state[state] = load()
    value: dict[str, Any] | None = st.session_state[state]
    return value


def generation(key: str) -> int:
    value: int = st.session_state.setdefault(f"generation_{key}", 0)
    return value


def forget(key: str) -> None:
    """Drop the loaded copy and give the form fresh widgets (after a save or a reload)."""
    st.session_state.pop(f"loaded_{key}", None)
    st.session_state.pop(f"stale_{key}", None)
    st.session_state[f"generation_{key}"] = generation(key) + 1


def field_input(
    field: entities.Field,
    value: Any,
    key: str,
    *,
    options: dict[Any, str] | None = None,
    max_date: date | None = None,
) -> Any:
    """One widget for ``field`` showing ``value``; returns what the user entered."""
    label = field.label + (" *" if field.required else "")
    if options is not None:
        keys = list(options)
        index = keys.index(value) if value in keys else None
        return st.selectbox(
            label,
            keys,
            index=index,
            format_func=lambda k: options[k],
            key=key,
            placeholder="Choose…",
        )
    if field.kind == "choice":
        # An optional choice may stay blank (a course of no stated kind, dues whose status
        # follows from the amounts): a form must not fill in its first choice silently.
        choices = field.choices if field.required else ("", *field.choices)
        index = choices.index(value) if value in choices else 0
        return st.selectbox(label, choices, index=index, key=key, format_func=lambda c: c or "—")
    if field.kind == "date":
        return st.date_input(
            label,
            value=value,
            min_value=FIRST_DAY,
            max_value=max_date or LAST_DAY,
            format="MM/DD/YYYY",
            key=key,
        )
    if field.kind in ("hours", "money"):
        return st.number_input(
            label,
            value=None if value is None else float(value),
            step=0.25 if field.kind == "hours" else 1.0,
            format="%g" if field.kind == "hours" else "%.2f",  # hours as the tables write them
            key=key,
        )
    return st.text_input(label, value="" if value is None else str(value), key=key)


def show_problem(exc: CetrackerError) -> None:
    if isinstance(exc, entities.Invalid) and len(exc.problems) > 1:
        st.error("Please correct:\n" + "\n".join(f"- {p}" for p in exc.problems))
    elif isinstance(exc, entities.StaleEdit):
        st.error(exc.message, icon=":material/sync_problem:")
    else:
        st.error(exc.message)


def as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def entity_form(
    entity: entities.Entity,
    values: dict[str, Any] | None,
    key: str,
    *,
    submit: str,
    options: dict[str, dict[Any, str]] | None = None,
    max_date: date | None = None,
    leave_out: tuple[str, ...] = (),
) -> dict[str, Any] | None:
    """A form with one widget per field, filled from ``values``; the entries when submitted."""
    values = values or {}
    options = options or {}
    gen = generation(key)
    with st.form(f"form_{key}_{gen}"):
        cols = st.columns(2)
        entered = {}
        shown = [f for f in entity.fields if f.name not in leave_out]
        for i, field in enumerate(shown):
            with cols[i % 2]:
                entered[field.name] = field_input(
                    field,
                    values.get(field.name),
                    f"{key}_{gen}_{field.name}",
                    options=options.get(field.name),
                    max_date=max_date,
                )
        if st.form_submit_button(submit, type="primary"):
            return entered
    return None


def reload_button(key: str, label: str = "Reload") -> None:
    if st.button(label, key=f"reload_{key}_{generation(key)}", icon=":material/refresh:"):
        forget(key)
        st.rerun()


def mark_stale(key: str, exc: CetrackerError) -> None:
    """Remember that this editor's copy is out of date, until the user reloads."""
    st.session_state[f"stale_{key}"] = exc.message


def stale_notice(key: str, label: str) -> None:
    """After a refused save: say so, and offer to load the other person's version."""
    message = st.session_state.get(f"stale_{key}")
    if message:
        st.error(message, icon=":material/sync_problem:")
        reload_button(key, label)


@dataclass(frozen=True)
class Notice:
    """What a save says: a success, or ``info`` when there was nothing to save."""

    text: str
    kind: str = "success"

    def show(self) -> None:
        (st.info if self.kind == "info" else st.success)(self.text)


def saved_notice(changes: dict[str, list[Any]], what: str) -> Notice:
    if not changes:
        return Notice("Nothing changed, so nothing was saved.", "info")
    return Notice(
        f"Saved {what}: " + audit.describe_changes(json.dumps({"changes": changes}, default=str))
    )


def saved_message(changes: dict[str, list[Any]], what: str) -> None:
    saved_notice(changes, what).show()


def edit(
    entity: entities.Entity,
    values: dict[str, Any] | None,
    key: str,
    *,
    submit: str,
    save: Callable[[dict[str, Any]], object],
    done: Callable[[dict[str, Any], object], str | Notice | None],
    reload_label: str = "Reload",
    options: dict[str, dict[Any, str]] | None = None,
    max_date: date | None = None,
) -> None:
    """The whole editor: the form, the save, its problems, and "changed by someone else".

    ``done(entered, saved)`` returns what the save says (None: nothing). After a save the
    page runs again at once, with a fresh form under a new generation and the notice
    below it: the form shown until then, and everything the page showed above it (a
    list, a count), were drawn before the save. A form left on screen under its old
    generation would take the next entries and lose them unsaid (its submit button is
    gone from the run that receives them).
    """
    entered = entity_form(entity, values, key, submit=submit, options=options, max_date=max_date)
    if entered is not None:
        try:
            saved = save(entered)
        except entities.StaleEdit as exc:
            mark_stale(key, exc)
        except CetrackerError as exc:
            show_problem(exc)
        else:
            after_save(key, done(entered, saved))
    show_notice(key)
    stale_notice(key, reload_label)


_NOTICE = "editing_notice"  # (form key, notice, the page run of the change)


def after_save(key: str, notice: str | Notice | None) -> NoReturn:
    """After a change made through the form of ``key``: the page runs again at once, the
    form fresh (a new generation) and whatever the page shows above it drawn from the
    database, and ``notice`` is said where the page calls ``show_notice(key)``. A form
    left on screen would keep its entries for a second click (the same course reported,
    the same message sent again) or, under an old generation, take the next entries and
    lose them unsaid."""
    forget(key)
    if notice:
        as_notice = notice if isinstance(notice, Notice) else Notice(notice)
        st.session_state[_NOTICE] = (key, as_notice, session.page_run())
    st.rerun()


def show_notice(key: str) -> None:
    """Say what the change made through the form of ``key`` in the run before did."""
    said = _waiting_notice()
    if said is not None and said[0] == key:
        st.session_state.pop(_NOTICE)
        said[1].show()


def _waiting_notice() -> tuple[str, Notice, int] | None:
    """The notice of a save in the run before this one; an older one is dropped (its
    editor was not drawn since: shown later, it would speak of another row)."""
    said: tuple[str, Notice, int] | None = st.session_state.get(_NOTICE)
    if said is not None and said[2] < session.page_run() - 1:
        st.session_state.pop(_NOTICE)
        return None
    return said


def show_unseen_notice() -> None:
    """A save's notice whose editor this run does not draw (the saved row left the list
    the page shows): call where the page stops without one."""
    if _waiting_notice() is not None:
        st.session_state.pop(_NOTICE)[1].show()
