"""Both sandbox servers together, loaded with generated data: what tests and the demo start."""

from __future__ import annotations

from dataclasses import dataclass

from dksync.mapping import kennitala
from dksync.sandbox.dkplus_server import DkPlusServer
from dksync.sandbox.generator import Dataset, generate
from dksync.sandbox.knobs import Knobs
from dksync.sandbox.moment_server import MomentServer


@dataclass(frozen=True)
class Sizes:
    customers: int = 40
    projects: int = 15
    invoices: int = 60


class Sandbox:
    """A Moment and a DK+ server on free loopback ports (unless ports are given)."""

    def __init__(
        self,
        *,
        seed: int = 1,
        sizes: Sizes = Sizes(),
        moment_port: int = 0,
        dkplus_port: int = 0,
        sales_person: str = "SALA1",
        dataset: Dataset | None = None,
    ) -> None:
        self.dataset = dataset or generate(seed, sizes.customers, sizes.projects, sizes.invoices)
        self.sales_person = sales_person
        self.moment = MomentServer(port=moment_port, seed=seed, knobs=Knobs())
        self.dkplus = DkPlusServer(
            port=dkplus_port, seed=seed + 1, knobs=Knobs(), sales_persons=(sales_person,)
        )
        self.moment.load(self.dataset)

    def kennitala_numbered(self, every: int = 5, dash: bool = True) -> dict[str, str]:
        """The knob "customers numbered by kennitala": DK+ already holds every ``every``-th
        Moment customer with a usable kennitala, typed in by hand under its kennitala (with
        the dash, or without) and carrying it in ``SSNumber``. {Moment number: DK+ number}."""
        held: dict[str, str] = {}
        usable = [c for c in self.dataset.customers if kennitala.check(c.kennitala).digits]
        for customer in usable[::every]:
            digits = kennitala.check(customer.kennitala).digits or ""
            number = f"{digits[:6]}-{digits[6:]}" if dash else digits
            self.dkplus.add_customer({"Number": number, "Name": customer.name, "SSNumber": digits})
            held[customer.number] = number
        return held

    def start(self) -> Sandbox:
        self.moment.start()
        self.dkplus.start()
        return self

    def stop(self) -> None:
        self.moment.stop()
        self.dkplus.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def config_yaml(self, state_path: str = "dksync-sandbox.sqlite") -> str:
        """A dksync config that points at these two servers (it holds their secrets)."""
        return (
            "moment:\n"
            f"  base_url: {self.moment.url}\n"
            f"  company: {self.moment.company}\n"
            f"  api_key: {self.moment.api_key}\n"
            "dkplus:\n"
            f"  base_url: {self.dkplus.url}\n"
            f"  token: {self.dkplus.token}\n"
            f"  sales_person: {self.sales_person}\n"
            "  settle: 1  # the sandbox books a POST before it answers: no need to wait long\n"
            "sync:\n"
            "  start_from: '2026-01-01T00:00:00Z'\n"
            "state:\n"
            f"  path: {state_path}\n"
        )
