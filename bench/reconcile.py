"""``python bench/reconcile.py``: what ``dksync reconcile`` costs at month-end scale.

Syncs a generated company (default 3,000 invoices) into the DK+ sandbox without limits,
then gives DK+ a latency and a rate limit and reconciles twice: with DK+'s sales-invoice
list (pages of 1000) and with the list removed (404: one lookup per invoice, the way
without lists). Prints requests per API and wall time for each; the results must agree.
With ``--period-days N`` it reconciles the first N days only (the generator dates three
invoices a day), and once more with Moment ignoring the invoice-date filter: what a month
costs in a big company.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from dksync import config as config_module
from dksync.clients import connect
from dksync.reconcile import gather
from dksync.reconcile.compare import Result
from dksync.sandbox.generator import EPOCH, generate
from dksync.sandbox.pair import Sandbox
from dksync.sync import run as engine
from dksync.sync.context import RunOptions


def _config(sb: Sandbox, folder: Path, dkplus_rate: float) -> config_module.Config:
    raw = yaml.safe_load(sb.config_yaml(str(folder / "state.sqlite")))
    raw["moment"].update({"rate_limit": 0, "page_size": 200})
    raw["dkplus"].update({"rate_limit": dkplus_rate, "concurrency": 4})
    return config_module.from_mapping(raw, env={})


def _reconcile(settings: config_module.Config, label: str, period: gather.Period) -> Result:
    sources = connect(settings)
    started = time.monotonic()
    result = gather.run(settings, period, sources)
    wall = time.monotonic() - started
    dk = sources.lists.requests_sent + sources.dkplus.requests_sent
    print(
        f"{label}: {result.matched + len(result.problems)} Moment invoices, "
        f"{result.matched} matched, {len(result.problems)} problems; DK+ requests {dk}, "
        f"Moment requests {sources.moment.requests_sent}, wall {wall:.2f}s"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=3000)
    parser.add_argument("--customers", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--dkplus-rate", type=float, default=50.0)
    parser.add_argument("--period-days", type=int, default=0, help="0: the whole history")
    args = parser.parse_args()
    period = gather.Period(date(2026, 1, 1), date(2030, 12, 31))
    if args.period_days:
        period = gather.Period(EPOCH.date(), EPOCH.date() + timedelta(days=args.period_days - 1))
    data = generate(7, args.customers, max(1, args.customers // 10), args.invoices)
    with Sandbox(dataset=data) as sb, tempfile.TemporaryDirectory() as folder:
        settings = _config(sb, Path(folder), dkplus_rate=0)
        engine.run(settings, RunOptions())
        sb.dkplus.knobs.update({"latency_ms": args.latency_ms, "rate_limit": args.dkplus_rate})
        settings = _config(sb, Path(folder), dkplus_rate=args.dkplus_rate)
        print(f"DK+ latency {args.latency_ms:.0f} ms, rate limit {args.dkplus_rate:.0f}/s")
        print(f"period {period.start} to {period.end} in a company of {args.invoices} invoices")
        listed = _reconcile(settings, "with the list", period)
        if args.period_days:
            sb.moment.knobs.update({"ignore_invoice_date": True})
            ignored = _reconcile(settings, "Moment ignoring the date filter", period)
            print("results agree" if listed == ignored else "RESULTS DIFFER")
            sb.moment.knobs.update({"ignore_invoice_date": False})
        sb.dkplus.knobs.update({"lists_status": 404})
        one_by_one = _reconcile(settings, "without the list (404)", period)
        print("results agree" if listed == one_by_one else "RESULTS DIFFER")


if __name__ == "__main__":
    main()
