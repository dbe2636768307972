"""HTTP: `GET /v1/invoices/{id}.{pdf,html,csv}` and `GET /v1/credit-notes/{id}.{pdf,html,csv}`.

app.py includes this router before the invoices and credit-notes routers: `/invoices/{id}`
would otherwise take `12.pdf` as an id and answer 422.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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


def _endpoint(kind: Kind, fmt: Format) -> Callable[..., Response]:
    def get_document(
        principal: PrincipalDep,
        session: SessionDep,
        object_id: int = Path(alias="id"),
    ) -> Response:
        return respond(document(session, principal, kind, object_id, fmt), fmt)

    return get_document


DOCUMENTS: tuple[tuple[Kind, str, str], ...] = (
    ("invoice", "invoices", "invoice"),
    ("credit_note", "credit-notes", "credit note"),
)  # (kind, path segment, label)


def add_document_routes(
    target: APIRouter,
    prefix: str,
    endpoint: Callable[[Kind, Format], Callable[..., Response]],
    formats: Sequence[Format],
    name: str = "",
    summary: str = "The {label} as {fmt}",
    description: str | None = None,
) -> None:
    """`GET {prefix}/{invoices|credit-notes}/{id}.{fmt}` for every kind and format: the API's
    documents and the portal's share the table. `summary`/`description` are formatted with
    label, fmt (upper case) and media."""
    for kind, segment, label in DOCUMENTS:
        for fmt in formats:
            media = MEDIA_TYPES[fmt]
            text = {"label": label, "fmt": fmt.upper(), "media": media}
            target.add_api_route(
                f"{prefix}/{segment}/{{id}}.{fmt}",
                endpoint(kind, fmt),
                methods=["GET"],
                name=f"{name}{kind}_{fmt}",
                summary=summary.format(**text),
                description=description.format(**text) if description else "",
                response_class=Response,
                responses={200: {"content": {media.split(";")[0]: {}}}},
            )


add_document_routes(
    router, "", _endpoint, FORMATS,
    description="The {label} document in its seller's brand, as `{media}`, named after its "
    "number (Content-Disposition). 404 outside your subtree.",
)  # fmt: skip
