"""`meterly events import` through the real CLI, a real SQLite ledger and a real DuckDB store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from meterly.cli import app
from meterly.cli_support import operator
from meterly.config import Settings
from meterly.ingest.importer import import_file, plan_import
from meterly.runtime import Runtime
from meterly.storage.events.base import ListQuery, StoredEvent

T = "2026-03-01T09:30:00Z"


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True) -> Any:
        result = self.runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def imp(self, path: Path, *args: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(
            self("events", "import", str(path), "--json", *args).stdout
        )
        return out

    def stored(self) -> dict[str, StoredEvent]:
        with self.runtime() as rt:
            return {e.id: e for e in rt.events.list(ListQuery(limit=10_000))}

    def count(self) -> int:
        with self.runtime() as rt:
            return rt.events.count()

    def runtime(self) -> _Opened:
        return _Opened(Runtime.open(Settings()))

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path


class _Opened:
    """Runtime as a context manager that closes it (the CLI needs the DuckDB file back)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def __enter__(self) -> Runtime:
        return self.rt

    def __exit__(self, *exc: object) -> None:
        self.rt.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.setenv("METERLY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("METERLY_PROVIDER_ID", "skyline")
    monkeypatch.delenv("METERLY_LEDGER_URL", raising=False)
    monkeypatch.delenv("METERLY_EVENTS_URL", raising=False)
    yield Cli(tmp_path)


def ev(eid: str, subject: str = "law-firm", **data: Any) -> str:
    event = {"id": eid, "source": "pbx", "type": "call", "subject": subject, "time": T}
    body = json.dumps(event)[:-1]
    # Numbers written by hand, not through float: "0.1" must reach the store as "0.1".
    fields = ",".join(f'"{k}":{v}' for k, v in data.items())
    return body + ',"data":{' + fields + "}}"


def rejects_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_keeps_exact_decimals_and_reports_each_bad_line(cli: Cli) -> None:
    cli("accounts", "create", "law-firm", "--name", "Law firm")
    src = cli.write(
        "calls.jsonl",
        "\n".join(
            [
                ev("e1", minutes="0.1"),
                ev("e2", minutes="0.2"),
                "",
                '{"id": "e9", not json',
                '{"id": "e3", "source": "pbx", "subject": "x", "time": "' + T + '"}',
                ev("e4", "walk-in", minutes="1.10", big="12345678901234567890.123456789"),
            ]
        )
        + "\n",
    )
    summary = cli.imp(src)
    assert {k: summary[k] for k in ("records", "accepted", "duplicates", "rejected")} == {
        "records": 5,
        "accepted": 3,
        "duplicates": 0,
        "rejected": 2,
    }
    assert summary["unattributed"] == 1  # walk-in is no account
    assert summary["rejects_file"] == str(src) + ".rejects.jsonl"
    stored = cli.stored()
    assert stored["e1"].data == '{"minutes":0.1}'
    assert stored["e2"].data == '{"minutes":0.2}'
    assert stored["e4"].data == '{"minutes":1.10,"big":12345678901234567890.123456789}'
    assert stored["e1"].time == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    bad = rejects_of(Path(summary["rejects_file"]))
    assert [(r["line"], r["id"]) for r in bad] == [(4, None), (5, "e3")]
    assert "not valid JSON" in bad[0]["errors"][0]["message"]
    assert bad[1]["errors"] == [{"field": "type", "message": "is required"}]


def test_human_summary_and_no_rejects_file_when_clean(cli: Cli) -> None:
    src = cli.write("ok.jsonl", ev("a", n="1") + "\n" + ev("b", n="2"))  # no final newline
    stale = Path(str(src) + ".rejects.jsonl")
    stale.write_text('{"line": 1}\n')  # left by an earlier run of a since-fixed file
    out = cli("events", "import", str(src)).stdout
    assert "accepted" in out and "events/s" in out
    counts = dict(
        line.split() for line in out.splitlines() if line.startswith("  ") and ":" not in line
    )
    assert counts == {"accepted": "2", "duplicates": "0", "unattributed": "2", "rejected": "0"}
    assert not stale.exists()
    assert cli.count() == 2


def test_rerun_stores_each_event_once(cli: Cli) -> None:
    src = cli.write("calls.jsonl", "".join(ev(f"e{i}", n=str(i)) + "\n" for i in range(25)))
    first = cli.imp(src, "--chunk-size", "4")
    assert (first["accepted"], first["duplicates"]) == (25, 0)
    again = cli.imp(src, "--chunk-size", "7")
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 25, 0)
    assert again["unattributed"] == 0  # duplicates are not counted again
    assert cli.count() == 25


def test_interrupted_import_finishes_on_rerun(cli: Cli) -> None:
    lines = [ev(f"e{i}", n=f"{i}.5") for i in range(30)]
    whole = cli.write("calls.jsonl", "\n".join(lines) + "\n")
    # What an interruption leaves: the first chunks stored, the rest not.
    part = cli.write("part.jsonl", "\n".join(lines[:12]) + "\n")
    cli.imp(part, "--chunk-size", "5")
    summary = cli.imp(whole, "--chunk-size", "5")
    assert (summary["accepted"], summary["duplicates"]) == (18, 12)
    assert cli.count() == 30
    assert cli.stored()["e29"].data == '{"n":29.5}'


def test_a_real_interruption_mid_file(cli: Cli) -> None:
    src = cli.write("calls.jsonl", "".join(ev(f"e{i}", n="1") + "\n" for i in range(40)))
    plan = plan_import(src, chunk_size=10)
    calls = 0

    def stop(_: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt

    with cli.runtime() as rt, pytest.raises(KeyboardInterrupt):
        import_file(rt, operator(rt), plan, stop)
    stored_before = cli.count()
    assert 0 < stored_before < 40
    summary = cli.imp(src, "--chunk-size", "10")
    assert summary["accepted"] == 40 - stored_before
    assert summary["duplicates"] == stored_before
    assert cli.count() == 40


def test_bad_lines_are_numbered_across_chunks(cli: Cli) -> None:
    lines = [ev(f"e{i}", n="1") for i in range(20)]
    lines[13] = "oops"
    lines[17] = ""
    src = cli.write("calls.jsonl", "\r\n".join(lines) + "\r\n")  # CRLF too
    summary = cli.imp(src, "--chunk-size", "6")
    assert (summary["accepted"], summary["rejected"]) == (18, 1)
    assert [r["line"] for r in rejects_of(Path(summary["rejects_file"]))] == [14]


def test_one_value_per_line_even_next_to_blank_lines(cli: Cli) -> None:
    two = ev("x1", n="1") + " " + ev("x2", n="1")  # two events on one line is not JSONL
    src = cli.write("calls.jsonl", "\n".join([ev("a", n="1"), "", two, "   ", ev("b", n="2")]))
    summary = cli.imp(src)
    assert (summary["accepted"], summary["rejected"]) == (2, 1)
    assert [r["line"] for r in rejects_of(Path(summary["rejects_file"]))] == [3]
    assert set(cli.stored()) == {"a", "b"}


def test_rejects_can_go_elsewhere(cli: Cli) -> None:
    src = cli.write("calls.jsonl", ev("a", n="1") + "\nnope\n")
    out = cli.dir / "out" / "bad.jsonl"
    out.parent.mkdir()
    summary = cli.imp(src, "--rejects", str(out))
    assert summary["rejects_file"] == str(out)
    assert rejects_of(out)[0]["line"] == 2
    assert not Path(str(src) + ".rejects.jsonl").exists()


CSV = (
    "id,source,type,customer,time,secs,note\n"
    f'c1,pbx,call,law-firm,{T},0.1,"hello, world"\n'
    f'c2,pbx,call,law-firm,{T},0.2,"two\nlines"\n'
    f"c3,pbx,,law-firm,{T},3,x\n"
    "c4,pbx,call,law-firm,not-a-time,1,y\n"
    f"c5,pbx,call,law-firm,{T},007,\n"
    f"c6,pbx,call,law-firm,{T},1,z,surplus\n"
)


def test_csv_maps_columns_and_keeps_cells_as_strings(cli: Cli) -> None:
    src = cli.write("calls.csv", CSV)
    maps = ["--map", "customer=subject", "--map", "secs=data.duration_seconds"]
    summary = cli.imp(src, *maps, "--chunk-size", "2")
    assert (summary["accepted"], summary["rejected"]) == (3, 3)
    stored = cli.stored()
    assert stored["c1"].data == '{"duration_seconds":"0.1","note":"hello, world"}'
    assert stored["c2"].data == '{"duration_seconds":"0.2","note":"two\\nlines"}'
    assert stored["c5"].data == '{"duration_seconds":"007"}'  # an empty cell is absent
    assert stored["c1"].subject == "law-firm" and stored["c1"].source == "pbx"
    bad = rejects_of(Path(summary["rejects_file"]))
    # File line numbers: the header is line 1 and c2 spans lines 3-4.
    assert [(r["line"], r["id"]) for r in bad] == [(5, "c3"), (6, "c4"), (8, None)]
    assert bad[0]["errors"][0]["field"] == "type"
    assert bad[1]["errors"][0]["field"] == "time"
    assert "header has 7" in bad[2]["errors"][0]["message"]
    # unmapped, not an event field: into data under its own name
    again = cli.imp(src, *maps)
    assert (again["accepted"], again["duplicates"]) == (0, 3)


def test_parquet_typed_columns_stay_exact(cli: Cli) -> None:
    n = 5
    table = pa.table(
        {
            "id": pa.array([f"p{i}" if i != 2 else None for i in range(n)]),
            "source": ["meter"] * n,
            "event_type": ["storage"] * n,
            "subject": ["law-firm"] * n,
            "time": pa.array(
                [datetime(2026, 3, 1, 9, 30, i, tzinfo=UTC) for i in range(n)],
                pa.timestamp("us", "UTC"),
            ),
            "gb": pa.array(
                [Decimal("0.1"), Decimal("0.2"), None, Decimal("1.5"), Decimal("2")],
                pa.decimal128(10, 1),
            ),
            "ratio": [0.1, 0.2, 0.3, None, 1e-7],
            "pages": [3, 4, 5, 6, 7],
            "label": ["0.1", "x", "y", "z", None],
        }
    )
    src = cli.dir / "usage.parquet"
    pq.write_table(table, src, row_group_size=2)
    summary = cli.imp(src, "--map", "event_type=type", "--chunk-size", "2")
    assert (summary["accepted"], summary["rejected"]) == (4, 1)
    stored = cli.stored()
    assert stored["p0"].data == '{"gb":0.1,"ratio":0.1,"pages":3,"label":"0.1"}'
    assert stored["p1"].data == '{"gb":0.2,"ratio":0.2,"pages":4,"label":"x"}'
    assert stored["p4"].data == '{"gb":2.0,"ratio":1E-7,"pages":7}'
    assert stored["p1"].type == "storage"
    assert stored["p1"].time == datetime(2026, 3, 1, 9, 30, 1, tzinfo=UTC)
    bad = rejects_of(Path(summary["rejects_file"]))
    assert bad == [{"row": 3, "id": None, "errors": [{"field": "id", "message": "is required"}]}]
    assert cli.imp(src, "--map", "event_type=type")["duplicates"] == 4


def test_parquet_naive_timestamps_are_rejected_like_json(cli: Cli) -> None:
    table = pa.table(
        {
            "id": ["a", "b"],
            "type": ["t", "t"],
            "subject": ["s", "s"],
            "time": pa.array([datetime(2026, 3, 1), datetime(2026, 3, 2)], pa.timestamp("ns")),
        }
    )
    src = cli.dir / "naive.pq"
    pq.write_table(table, src)
    summary = cli.imp(src)
    assert (summary["accepted"], summary["rejected"]) == (0, 2)
    assert "offset" in rejects_of(Path(summary["rejects_file"]))[0]["errors"][0]["message"]


def test_import_as_a_reseller_account(cli: Cli) -> None:
    cli("accounts", "create", "msp-a", "--name", "MSP A", "--kind", "reseller")
    cli("accounts", "create", "law-firm", "--name", "Law", "--parent", "msp-a")
    src = cli.write("msp.jsonl", ev("m1", n="1") + "\n" + ev("m2", "skyline", n="1") + "\n")
    summary = cli.imp(src, "--account", "msp-a")
    # The provider is outside the reseller's subtree: not attributed to it.
    assert (summary["accepted"], summary["unattributed"]) == (2, 1)
    with cli.runtime() as rt:
        msp_id = operator(rt, "msp-a").account_id
    assert {e.tenant for e in cli.stored().values()} == {str(msp_id)}
    # The same ids under the provider are other events: dedup is per tenant.
    assert cli.imp(src)["accepted"] == 2


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("missing.jsonl", [], "not found"),
        ("calls.txt", [], "--format"),
        ("calls.jsonl", ["--format", "xml"], "unknown format"),
        ("calls.csv", ["--map", "nonsense"], "bad --map"),
        ("calls.csv", ["--map", "secs=price"], "bad --map"),
        ("calls.csv", ["--map", "secs=data."], "bad --map"),
        ("calls.csv", ["--map", "nope=data.x"], "not in the file"),
        ("calls.jsonl", ["--map", "a=id"], "csv and parquet"),
        ("calls.parquet", [], "not a readable Parquet"),
        ("--account", ["--account", "ghost"], "ghost"),
    ],
)
def test_clear_errors(cli: Cli, name: str, args: list[str], message: str) -> None:
    for existing in ("calls.txt", "calls.jsonl", "calls.parquet"):
        cli.write(existing, ev("e1", n="1") + "\n")
    cli.write("calls.csv", CSV)
    path = cli.dir / ("calls.jsonl" if name == "--account" else name)
    result = cli("events", "import", str(path), *args, ok=False)
    assert result.exit_code != 0
    assert message in " ".join(result.stderr.split())
