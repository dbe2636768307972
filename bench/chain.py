"""Chain bill-run benchmark of issue 5 ("Resellers"). Prints ONE JSON object.

The same usage billed two ways, each in a fresh embedded data folder (SQLite + DuckDB):
- single tier: --customers customers (10,000) directly under the provider (bench/billing.py's
  set-up: seats in advance, call minutes and fax pages in arrears);
- chain: the same customers spread over --resellers resellers (50), each selling its own retail
  plan (the same charges), and each reseller subscribed to the provider's wholesale plan (seats
  and minutes pooled, fax pages per_customer) — so the provider's bill run writes every retail
  invoice plus one wholesale invoice per reseller, counting its whole subtree.
--events usage events (10 M) over November 2026, identical in both folders. Each bill run is
`meterly bill run --as-of 2026-12-01T00:00:00Z --json` in its own process (start-up included).

chain_bill_run_s, single_bill_run_s, ratio (chain / single; target ≤ 1.3), plus counts.

    .venv/bin/python bench/chain.py [--customers 10000] [--events 10000000] [--resellers 50]
        [--keep DIR]   (keep DIR/single and DIR/chain, e.g. to profile a bill run on a copy)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import billing as single  # bench/billing.py: single-tier set-up, events, constants

NOV, DEC, BIN = single.NOV, single.DEC, single.BIN

CHARGES: list[dict[str, Any]] = [
    {"product": "seat", "description": "Seat",
     "price": {"model": "per_unit", "unit_amount": "24.99", "timing": "in_advance"}},
    {"product": "calls", "meter": "call-minutes", "description": "Call minutes",
     "price": {"model": "per_unit", "unit_amount": "0.012"}},
    {"product": "fax", "meter": "fax-pages", "description": "Fax pages",
     "price": {"model": "graduated", "tiers": [
         {"up_to": "100", "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.05"}]}},
]  # fmt: skip
WHOLESALE: list[dict[str, Any]] = [
    {"product": "seat", "description": "Seat",
     "price": {"model": "per_unit", "unit_amount": "15.00", "timing": "in_advance"}},
    {"product": "calls", "meter": "call-minutes", "description": "Call minutes",
     "price": {"model": "graduated", "tiers": [
         {"up_to": "100000", "unit_amount": "0.008"}, {"up_to": None, "unit_amount": "0.006"}]}},
    {"product": "fax", "meter": "fax-pages", "description": "Fax pages",
     "wholesale": "per_customer", "price": {"model": "graduated", "tiers": [
         {"up_to": "100", "unit_amount": "0"}, {"up_to": None, "unit_amount": "0.03"}]}},
]  # fmt: skip


def setup_chain_ledger(data: Path, customers: int, resellers: int) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import func, insert, select

    from meterly.accounts.keys import create_key
    from meterly.accounts.models import Account
    from meterly.app import create_app
    from meterly.config import Settings
    from meterly.plans.models import Plan, PlanVersion
    from meterly.runtime import Runtime
    from meterly.subscriptions.models import Subscription, SubscriptionChange

    rt = Runtime.open(Settings(data_dir=data, provider_id="skyline"))
    try:
        with rt.ledger.unit_of_work() as s:
            root = s.query(Account).filter(Account.parent_id.is_(None)).one()
            _, key = create_key(s, root, "bench")
            root_id = root.id
        with TestClient(create_app(runtime=rt)) as client:

            def post(path: str, body: dict[str, Any], k: str = key) -> None:
                r = client.post(path, json=body, headers={"Authorization": f"Bearer {k}"})
                assert r.status_code == 201, r.text

            single.meters_and_products(post)
            post("/v1/plans", {"key": "wholesale", "name": "Wholesale", "charges": WHOLESALE})
            for r in range(resellers):
                post("/v1/accounts", {"external_id": f"r{r:03d}", "name": f"R{r}",
                                      "kind": "reseller"})  # fmt: skip
                with rt.ledger.unit_of_work() as s:
                    acc = s.scalars(select(Account).where(Account.external_id == f"r{r:03d}")).one()
                    _, rkey = create_key(s, acc, "bench")
                post("/v1/plans", {"key": "voice", "name": "Voice", "charges": CHARGES}, rkey)
        with rt.ledger.unit_of_work() as s:
            accs = {a.external_id: a for a in s.scalars(select(Account))}
            rows = s.execute(
                select(Plan, PlanVersion).join(PlanVersion, PlanVersion.plan_id == Plan.id)
            )
            pvs = {p.seller_id: (p.id, pv.id) for p, pv in rows}
            first = int(s.scalar(select(func.max(Account.id))) or 0) + 1
            rs = [accs[f"r{r:03d}"] for r in range(resellers)]
            s.execute(insert(Account), [
                {"id": first + i, "external_id": f"c{i:05d}", "name": f"Customer {i}",
                 "kind": "customer", "parent_id": rs[i % resellers].id,
                 "path": f"{rs[i % resellers].path}{first + i}/", "currency": "USD",
                 "timezone": "UTC"}
                for i in range(customers)
            ])  # fmt: skip
            subs = [(rs[i % resellers].id, first + i, pvs[rs[i % resellers].id], i % 20 + 1)
                    for i in range(customers)]  # fmt: skip
            subs += [(root_id, r.id, pvs[root_id], 1) for r in rs]
            s.execute(insert(Subscription), [
                {"id": n + 1, "seller_id": seller, "customer_id": cust, "plan_id": pv[0],
                 "plan_version_id": pv[1], "start": NOV, "end": None, "trial_days": 0,
                 "quantity": q, "billing_anchor": 1}
                for n, (seller, cust, pv, q) in enumerate(subs)
            ])  # fmt: skip
            s.execute(insert(SubscriptionChange), [
                {"subscription_id": n + 1, "kind": "created", "effective_at": NOV,
                 "data": {"plan_version_id": pv[1], "version": 1, "quantity": str(q),
                          "add_ons": []}}
                for n, (_seller, _cust, pv, q) in enumerate(subs)
            ])  # fmt: skip
    finally:
        rt.close()


def bill_run(data: Path) -> tuple[float, dict[str, Any]]:
    env = {"METERLY_DATA_DIR": str(data), "METERLY_PROVIDER_ID": "skyline", "PATH": "/usr/bin"}
    cmd = [str(BIN), "bill", "run", "--as-of", DEC.isoformat(), "--json"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=7200)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"bill run failed: {out.stderr[-2000:]}")
    return elapsed, dict(json.loads(out.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--resellers", type=int, default=50)
    ap.add_argument("--keep", type=Path, help="build the two data folders here and keep them")
    args = ap.parse_args()
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="meterly-bench-chain-"))
    try:
        one, chain = tmp / "single", tmp / "chain"
        single.setup_ledger(one, args.customers)
        setup_chain_ledger(chain, args.customers, args.resellers)
        for data in (one, chain):  # the provider (account 1) sends every event: same usage
            single.setup_events(data, args.customers, args.events)
        single_s, s_out = bill_run(one)
        chain_s, c_out = bill_run(chain)
        print(json.dumps({
            "customers": args.customers, "resellers": args.resellers, "events": args.events,
            "chain_bill_run_s": round(chain_s, 2), "single_bill_run_s": round(single_s, 2),
            "ratio": round(chain_s / single_s, 2),
            "invoices": {"chain": c_out["invoices"], "single": s_out["invoices"]},
            "errors": {"chain": len(c_out["errors"]), "single": len(s_out["errors"])},
            "totals": {"chain": c_out["totals"], "single": s_out["totals"]},
        }, indent=2))  # fmt: skip
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
