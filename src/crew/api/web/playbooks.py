"""The playbook page (应对策略): which case each warning opens, read-only for every role.

It reads the rules through `load_playbooks`, the loader the case engine uses, so the page
shows exactly what the next run applies: built-in rules with the workspace's
`catalog/playbooks.yaml` on top, in matching order, and how customers are tiered.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from crew.api.state import ApiState, api_state
from crew.api.web.pages import PageError, Viewer, demand, render, viewer
from crew.errors import ConfigError
from crew.response.access import Permission
from crew.response.playbooks import PLAYBOOKS_FILE, PlaybookBook, load_playbooks

router = APIRouter(include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]
State = Annotated[ApiState, Depends(api_state)]


def match_rows(book: PlaybookBook) -> list[dict[str, list[str]]]:
    """Per playbook, the values each match criterion takes (an empty list means any).

    >>> from crew.response.playbooks import load_playbooks
    >>> match_rows(load_playbooks())[0]["tier"]
    ['key']
    """
    return [
        {
            "risk": [v.value for v in p.match.risk_types],
            "level": [v.value for v in p.match.levels],
            "tier": [v.value for v in p.match.tiers],
            "industry": [v.value for v in p.match.profiles],
        }
        for p in book.playbooks
    ]


@router.get("/playbooks", response_class=HTMLResponse)
def playbooks_page(request: Request, who: Who, state: State) -> HTMLResponse:
    """The playbooks in force, their steps, the teams and the tier definition."""
    demand(who, Permission.VIEW)
    try:
        book = load_playbooks(state.workspace.root)
    except ConfigError as exc:
        # A broken workspace file is the admin's to fix; the page says which and why.
        raise PageError(500, exc.message) from None
    own = state.workspace.root / PLAYBOOKS_FILE
    context = {
        "book": book,
        "matches": match_rows(book),
        "own_file": str(PLAYBOOKS_FILE) if own.exists() else None,
    }
    return render(request, "playbooks.html", context, who=who)


__all__ = ["match_rows", "router"]
