"""One thread's ``requests`` session, with the environment's proxy settings read once.

``requests`` looks the proxies (``HTTPS_PROXY``, ``NO_PROXY``...) up in the environment
twice per request, which costs more than the request's own work where the environment is
large (a Kubernetes pod). So they, and the CA bundle (``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE``), are read once per client and the sessions do not look again
(``trust_env`` off). ``~/.netrc`` is not read: dksync sends its own credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import requests

Environment = tuple[dict[str, str], bool | str]


def environment(url: str) -> Environment:
    """The proxies the environment sets for ``url``, and the CA bundle to verify with."""
    proxies = requests.utils.get_environ_proxies(url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    return dict(proxies), bundle or True


def new_session(headers: Mapping[str, str], settings: Environment) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    session.trust_env = False
    session.proxies, session.verify = settings
    return session
