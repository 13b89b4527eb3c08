"""Render a page of the project: a template in templates/ that extends base.html.j2.

One mechanism for the three pages (report.html, drift.html, the model card), so a team restyles them
all in one place (page.css) and each page says only what it shows. Every page is self-contained and
offline: the base writes page.css inline, allowed by its hash in a Content-Security-Policy that lets
nothing else load or run (mlops.model_card_page). Autoescaping is on: text is text unless the code that
made it marks it `Markup` (the inline SVG plots, the card's rendered Markdown).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from mlops.model_card_page import PAGE_POLICY, STYLE

TEMPLATES = Path(__file__).parent / "templates"


def render_page(template: str, **context: Any) -> str:
    """The page `template` renders from `context`; every template is given `title` by its caller."""
    return _environment().get_template(template).render(**context)


@cache
def _environment() -> Environment:
    """Built on first use, so importing this module reads nothing."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,  # a name a template misspells fails, instead of showing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals |= {"stylesheet": Markup(STYLE), "policy": PAGE_POLICY}
    env.filters["code"] = code
    return env


def code(text: str) -> Markup:
    """Escape text and show its `backticked` parts as code, as the Markdown versions of the pages do."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts)))
