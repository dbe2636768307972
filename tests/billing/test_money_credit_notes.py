"""Credit notes through the real HTTP app: whole and partial (by amount or quantity), taxes
credited with their lines, gapless numbers per seller, the credit back on the customer's
balance or marked refunded, never more than remains creditable, `credit_note.created`."""

from __future__ import annotations

from typing import Any

from money_helpers import START, finalize, hook, invoice, make_invoice, messages, ok

from support import Env

CHARGES = [
    ("fee", "uc-seat", "249.90", "10"),
    ("usage", "calls-domestic", "37.45", "749"),
    ("one_off", "phone-hardware", "189.00", "1"),
]


def setup(env: Env) -> int:
    env.account("law-firm")
    hook(env, ["credit_note.created"])
    ok(env.post("/v1/tax-rates", {"key": "nj", "name": "NJ sales tax", "rate": "6.625"}))
    ok(env.post("/v1/customers/law-firm/tax", {"rates": ["nj"]}), 200)
    ok(
        env.post(
            "/v1/customers/law-firm/discounts",
            {
                "starts_at": START,
                "discount": {"name": "Ten", "percent_off": "10", "duration": "forever"},
            },
        )
    )
    inv = make_invoice(env, "law-firm", CHARGES)
    finalize(env, inv)
    return inv


def note(env: Env, inv: int, **body: object) -> Any:
    return env.post(f"/v1/invoices/{inv}/credit-notes", {"reason": "service outage", **body})


def test_partial_then_whole_credit_notes(env: Env) -> None:
    inv = setup(env)
    out = invoice(env, inv)
    # subtotal 476.35; 10% = 47.635 -> 47.64 (allocated 24.99 / 3.75 / 18.90: the
    # leftover cent goes to the largest remainder);
    # tax 6.625% × 428.71 = 28.4020… -> 28.40; total 457.11
    assert (out["discount_total"], out["tax_total"], out["total"]) == ("47.64", "28.40", "457.11")
    ids = out["line_ids"]
    assert note(env, inv, lines=[{"line_id": ids["uc-seat"], "quantity": "11"}]).status_code == 422
    first = ok(
        note(
            env,
            inv,
            lines=[
                {
                    "line_id": ids["uc-seat"],
                    "quantity": "2",
                },  # 2/10 of 224.91 net = 44.982 -> 44.98
                {"line_id": ids["calls-domestic"], "amount": "10.00"},
            ],
        )
    )
    assert first["number"] == "SKY-CN-2026-000001"
    assert [(x["description"], x["quantity"], x["amount"]) for x in first["lines"]] == [
        ("uc-seat", "2", "44.98"),
        ("calls-domestic", None, "10.00"),
        ("NJ sales tax (6.625%)", None, "3.64"),  # 6.625% × 54.98 = 3.6424…
    ]
    assert (first["subtotal"], first["tax_total"], first["total"]) == ("54.98", "3.64", "58.62")
    assert (first["outcome"], first["invoice_number"]) == ("credit", "SKY-2026-000001")
    # the calls line had 33.70 after its discount; 10.00 credited leaves 23.70
    over = note(env, inv, lines=[{"line_id": ids["calls-domestic"], "amount": "23.71"}])
    assert over.status_code == 422
    assert note(env, inv, lines=[{"line_id": ids["Ten (10% off)"]}]).status_code == 422
    rest = ok(note(env, inv, reason="cancelled"))
    assert rest["number"] == "SKY-CN-2026-000002"  # gapless: refusals took no number
    assert rest["total"] == "398.49"  # 457.11 − 58.62: everything that remained
    assert {x["description"]: x["amount"] for x in rest["lines"]} == {
        "uc-seat": "179.93",
        "calls-domestic": "23.70",
        "phone-hardware": "170.10",
        "NJ sales tax (6.625%)": "24.76",
    }
    assert note(env, inv).status_code == 422  # nothing left
    # both credits went back to the customer's balance, as credit_note movements
    credits = ok(env.get("/v1/customers/law-firm/credits"), 200)
    assert credits["balances"] == {"USD": "457.11"}
    assert [(m["kind"], m["amount"], m["credit_note_id"]) for m in credits["movements"]] == [
        ("credit_note", "58.62", first["id"]),
        ("credit_note", "398.49", rest["id"]),
    ]
    sent = messages(env, "credit_note.created")
    assert [m["number"] for m in sent] == ["SKY-CN-2026-000001", "SKY-CN-2026-000002"]
    assert invoice(env, inv)["total"] == "457.11"  # the invoice itself never changes
    listed = ok(env.get(f"/v1/credit-notes?invoice={inv}"), 200)["data"]
    assert [n["number"] for n in listed] == ["SKY-CN-2026-000001", "SKY-CN-2026-000002"]
    assert ok(env.get(f"/v1/credit-notes/{rest['id']}"), 200) == rest


def test_refund_needs_money_received_and_drafts_take_no_credit_note(env: Env) -> None:
    inv = setup(env)
    draft = make_invoice(env, "law-firm", CHARGES, period=1)
    assert note(env, draft).status_code == 409
    assert note(env, inv, refund=True).status_code == 422  # nothing was paid yet
    ok(env.post(f"/v1/invoices/{inv}/payments", {"amount": "100.00"}))
    ids = invoice(env, inv)["line_ids"]
    refund = ok(
        note(
            env,
            inv,
            refund=True,
            refund_reference="re_123",
            lines=[{"line_id": ids["phone-hardware"], "amount": "90.00"}],
        )
    )
    assert (refund["outcome"], refund["total"], refund["credit_grant_id"]) == (
        "refunded",
        "95.96",
        None,  # 90.00 + 6.625% × 90.00 = 5.9625 -> 5.96
    )
    assert refund["refund_reference"] == "re_123"
    assert ok(env.get("/v1/customers/law-firm/credits"), 200)["balances"] == {}
    again = note(env, inv, refund=True, lines=[{"line_id": ids["uc-seat"], "amount": "5"}])
    assert again.status_code == 422  # 4.04 of money received is left to refund


def test_credit_notes_are_scoped_and_numbered_per_seller(env: Env) -> None:
    inv = setup(env)
    env.account("msp", kind="reseller")
    msp = env.key_for("msp")
    env.account("dentist", key=msp)
    other = make_invoice(env, "dentist", CHARGES)
    finalize(env, other)
    assert ok(env.post(f"/v1/invoices/{other}/credit-notes", {"reason": "x"}, key=msp))[
        "number"
    ] == (
        "MSP-CN-2026-000001"  # the reseller's own sequence
    )
    assert env.post(f"/v1/invoices/{inv}/credit-notes", {"reason": "x"}, key=msp).status_code == 404
    own = env.key_for("law-firm")
    assert env.post(f"/v1/invoices/{inv}/credit-notes", {"reason": "x"}, key=own).status_code == 403
    cn = ok(note(env, inv))
    assert ok(env.get(f"/v1/credit-notes/{cn['id']}", key=own), 200)["number"] == cn["number"]
    assert env.get(f"/v1/credit-notes/{cn['id']}", key=msp).status_code == 404
