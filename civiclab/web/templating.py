"""Each feature's templates over the shared base page (`layout.html`) and its stylesheet (`form.css`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
BASE_STYLESHEET = HERE / "static" / "form.css"
"""The stylesheet `layout.html` links as `/static/form.css`: each feature's app serves it."""


def environment(feature_templates: Path) -> Environment:
    """Templates of a feature (its folder first), able to extend `layout.html`; HTML is autoescaped."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader([feature_templates, TEMPLATES]), autoescape=select_autoescape(["html"])
    )
