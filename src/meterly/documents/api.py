"""HTTP: `GET /v1/invoices/{id}.{pdf,html,csv}` and `GET /v1/credit-notes/{id}.{pdf,html,csv}`.

app.py includes this router before the invoices and credit-notes routers: `/invoices/{id}`
would otherwise take `12.pdf` as an id and answer 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Response

from meterly.api.deps import PrincipalDep, SessionDep
from meterly.documents.render import FORMATS, MEDIA_TYPES, Format, Kind, Rendered, document

router = APIRouter(prefix="/v1", tags=["documents"])

# the HTML is self-contained: nothing to load, nothing to run, even if a name held markup
_HTML_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def respond(rendered: Rendered, fmt: Format) -> Response:
    disposition = "attachment" if fmt == "csv" else "inline"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{rendered.filename}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = _HTML_CSP
    return Response(rendered.body, media_type=rendered.media_type, headers=headers)


def _endpoint(kind: Kind, fmt: Format) -> Any:
    def get_document(
        principal: PrincipalDep,
        session: SessionDep,
        object_id: int = Path(alias="id"),
    ) -> Response:
        return respond(document(session, principal, kind, object_id, fmt), fmt)

    return get_document


_ROUTES: tuple[tuple[Kind, str, str], ...] = (
    ("invoice", "/invoices", "invoice"),
    ("credit_note", "/credit-notes", "credit note"),
)
for _kind, _base, _label in _ROUTES:
    for _fmt in FORMATS:
        router.add_api_route(
            f"{_base}/{{id}}.{_fmt}",
            _endpoint(_kind, _fmt),
            methods=["GET"],
            name=f"{_kind}_{_fmt}",
            summary=f"The {_label} as {_fmt.upper()}",
            description=(
                f"The {_label} document in its seller's brand, as `{MEDIA_TYPES[_fmt]}`, "
                "named after its number (Content-Disposition). 404 outside your subtree."
            ),
            response_class=Response,
            responses={200: {"content": {MEDIA_TYPES[_fmt].split(";")[0]: {}}}},
        )
