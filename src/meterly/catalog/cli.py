"""CLI: products, features and prices (create, list, preview)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer
from pydantic import ValidationError
from rich.table import Table

from meterly.catalog import service
from meterly.catalog.preview import preview
from meterly.catalog.schemas import FeatureCreate, PreviewIn, ProductCreate
from meterly.cli_support import console, handle_errors, operator, print_json, runtime
from meterly.errors import InvalidInput

products_app = typer.Typer(help="Products a seller sells.", no_args_is_help=True)
features_app = typer.Typer(help="Features plans grant.", no_args_is_help=True)
price_app = typer.Typer(help="Prices: create, list, and quote any price.", no_args_is_help=True)


def invalid(exc: ValidationError) -> InvalidInput:
    details = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    return InvalidInput("invalid input", details)


def load_json(text: str | None, path: Path | None, what: str) -> Any:
    """JSON from --x or --x-file (exactly one)."""
    if (text is None) == (path is None):
        raise InvalidInput(
            f"give --{what} JSON or --{what}-file PATH", [{"field": what, "message": "required"}]
        )
    try:
        return orjson.loads(path.read_bytes() if path is not None else (text or ""))
    except (orjson.JSONDecodeError, OSError) as exc:
        raise InvalidInput(f"--{what}: {exc}", [{"field": what, "message": "not JSON"}]) from None


@products_app.command("create")
@handle_errors
def products_create(
    key: str = typer.Argument(..., help="unique per seller, e.g. uc-seat"),
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option(..., "--kind", help="seat, usage, add_on, one_off or service"),
    unit: str | None = typer.Option(None, "--unit", help="unit label, e.g. minute"),
    seller: str | None = typer.Option(None, "--seller", help="a reseller below you"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a product."""
    try:
        body = ProductCreate(key=key, name=name, kind=kind, unit=unit)
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_product(s, operator(rt), body, seller)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"created {out.kind} product '{out.key}'")


@products_app.command("list")
@handle_errors
def products_list(
    seller: str | None = typer.Option(None, "--seller"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List products."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_products(s, operator(rt), seller)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("key", "name", "kind", "unit", "seller")
    for r in rows:
        table.add_row(r.key, r.name, r.kind, r.unit or "", r.seller)
    console.print(table)


@features_app.command("create")
@handle_errors
def features_create(
    key: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a feature."""
    try:
        body = FeatureCreate(key=key, name=name)
    except ValidationError as exc:
        raise invalid(exc) from None
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_feature(s, operator(rt), body)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"created feature '{out.key}'")


@features_app.command("list")
@handle_errors
def features_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List features."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_features(s, operator(rt))
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        console.print(f"{r.key}\t{r.name}")


@price_app.command("create")
@handle_errors
def price_create(
    price: str | None = typer.Option(None, "--price", help="the price JSON (see docs/catalog.md)"),
    price_file: Path | None = typer.Option(None, "--price-file", help="a file with the price JSON"),
    key: str | None = typer.Option(None, "--key"),
    price_book: str | None = typer.Option(None, "--price-book", help="default: 'default'"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a price to your price book."""
    data = load_json(price, price_file, "price")
    if not isinstance(data, dict):
        raise InvalidInput(
            "a price is a JSON object", [{"field": "price", "message": "expected an object"}]
        )
    data = {
        **data,
        **({"key": key} if key else {}),
        **({"price_book": price_book} if price_book else {}),
    }
    with runtime() as rt, rt.ledger.unit_of_work() as s:
        out = service.create_price(s, operator(rt), data)
    if as_json:
        print_json(out.model_dump(mode="json"))
    else:
        console.print(f"created price '{out.key}' ({out.model}, {out.currency} per {out.interval})")


@price_app.command("list")
@handle_errors
def price_list(
    product: str | None = typer.Option(None, "--product"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List active prices."""
    with runtime() as rt, rt.ledger.sessions() as s:
        rows = service.list_prices(s, operator(rt), product=product)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("key", "product", "meter", "model", "currency", "interval", "timing")
    for r in rows:
        table.add_row(r.key, r.product, r.meter or "", r.model, r.currency, r.interval, r.timing)
    console.print(table)


@price_app.command("preview")
@handle_errors
def price_preview(
    price: str | None = typer.Option(None, "--price", help="the price JSON"),
    price_file: Path | None = typer.Option(None, "--price-file", help="a file with the price JSON"),
    quantity: str | None = typer.Option(None, "--quantity", help="for quantity-based models"),
    transaction: list[str] = typer.Option(
        [], "--transaction", help="one transaction value (repeatable): percentage, increments"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Quote a price for a quantity or transactions; nothing is stored or opened."""
    data = load_json(price, price_file, "price")
    try:
        body = PreviewIn(price=data, quantity=quantity, transactions=transaction or None)
    except ValidationError as exc:
        raise invalid(exc) from None
    out = preview(body)
    if as_json:
        print_json(out.model_dump(mode="json"))
        return
    table = Table("description", "quantity", "unit amount", "amount", title=f"{out.currency}")
    for line in out.lines:
        table.add_row(line.description, line.quantity, line.unit_amount or "", line.amount)
    console.print(table)
    console.print(f"total {out.amount} {out.currency} (precise {out.precise_amount})")
