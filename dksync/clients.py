"""The API clients of one company, built once from its config: for a run, ``check`` and
``reconcile`` alike. DK+'s client and its list reader share one pacer, so together they
keep to ``dkplus.rate_limit``."""

from __future__ import annotations

from dataclasses import dataclass

from dksync.config import Config
from dksync.dkplus.client import DkPlusClient
from dksync.dkplus.lists import DkPlusLists
from dksync.moment import MomentClient
from dksync.transport.http import Endpoint, RetryPolicy
from dksync.transport.pace import Pacer


@dataclass(frozen=True)
class Clients:
    moment: MomentClient
    dkplus: DkPlusClient
    lists: DkPlusLists


def connect(config: Config, policy: RetryPolicy | None = None) -> Clients:
    """API clients for the configured services; DK+'s client and lists share one pace."""
    m, d = config.moment, config.dkplus
    policy = policy or RetryPolicy(max_total_seconds=config.sync.retry_for.total_seconds())
    moment = Endpoint(m.base_url, m.timeout, policy, Pacer(m.rate_limit))
    dkplus = Endpoint(d.base_url, d.timeout, policy, Pacer(d.rate_limit))
    token = d.token.reveal()
    return Clients(
        MomentClient.connect(
            moment,
            m.company,
            m.api_key.reveal(),
            page_size=m.page_size,
            field_names=m.field_names,
            max_pages=m.max_pages,
        ),
        DkPlusClient.connect(dkplus, token),
        DkPlusLists.connect(dkplus, token, max_pages=d.list_max_pages),
    )
