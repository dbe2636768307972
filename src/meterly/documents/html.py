"""HTML documents: one Jinja2 template, autoescaped, self-contained (inline CSS, the logo as a
`data:` URL) so a saved or e-mailed copy renders the same offline and loads nothing remote."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, select_autoescape

from meterly.documents.logo import load_logo
from meterly.documents.model import Document


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("meterly.documents", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(doc: Document) -> str:
    logo = load_logo(doc.seller.logo_url)
    template = _env().get_template("document.html")
    return template.render(doc=doc, logo=logo.data_url if logo else None)
