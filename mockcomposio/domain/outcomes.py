"""What the end user does with a consent flow (:class:`Outcome`) and where their browser ended
up (:class:`ConsentResult`): plain values shared by the domain, the control plane and the test
helpers (re-exported by :mod:`mockcomposio.testing`). Stdlib only, no HTTP client imports, so
the engine stays quick to import."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class ConsentResult:
    """Where the browser ended up after a consent flow (what
    :meth:`~mockcomposio.ConsentDriver.complete` returns).

    Attributes:
        final_url: your ``callback_url`` with Composio's parameters appended
            (``status=success&connected_account_id=ca_…``, or ``status=failed&error=…``);
            without a callback URL, the last page of the fake.
        status_code: HTTP status of the last response (302 when the flow left the fake).
        left_fake: True when the flow ended on a redirect away from the fake (your app).
        visited: every URL of the fake the browser went through, in order.
        page_text: the text of the last page when the flow stopped on the fake (an error
            page, the "you can close this tab" page): what went wrong.
    """

    final_url: str
    status_code: int
    left_fake: bool
    visited: list[str]
    page_text: str = ""

    @property
    def query(self) -> dict[str, str]:
        """The final URL's query parameters (the last value of each)."""
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.final_url).query,
                                               keep_blank_values=True).items()}

    @property
    def status(self) -> str | None:
        """``"success"`` or ``"failed"`` (None when the flow never reached a callback URL)."""
        return self.query.get("status")

    @property
    def connected_account_id(self) -> str | None:
        """The account the callback names (``connected_account_id``, or the legacy
        ``connectedAccountId`` of initiate and v1 flows)."""
        q = self.query
        return q.get("connected_account_id") or q.get("connectedAccountId")

    @property
    def error(self) -> str | None:
        """The callback's ``error`` parameter on a failed flow."""
        return self.query.get("error")



@dataclass(frozen=True)
class Outcome:
    """What the end user does with a consent flow.

    Build one with :meth:`allow`, :meth:`deny`, :meth:`error`, or parse the short string form
    used by markers and options (:meth:`parse`): ``"allow"``, ``"deny"``,
    ``"error:server_error"``, ``"scopes:repo,read:org"`` (allow, granting only these).
    """

    decision: str = "allow"
    scopes: tuple[str, ...] | None = None
    provider_error: str | None = None
    fields: Mapping[str, str] | None = None

    @classmethod
    def allow(cls, scopes: Iterable[str] | None = None,
              fields: Mapping[str, str] | None = None) -> Outcome:
        return cls("allow", None if scopes is None else tuple(scopes), None,
                   None if fields is None else dict(fields))

    @classmethod
    def deny(cls) -> Outcome:
        return cls("deny")

    @classmethod
    def error(cls, code: str = "server_error") -> Outcome:
        return cls("allow", None, code)

    @classmethod
    def parse(cls, spec: Outcome | str) -> Outcome:
        if isinstance(spec, Outcome):
            return spec
        text = spec.strip()
        kind, _, arg = text.partition(":")
        kind = kind.strip().lower()
        if kind in ("allow", "approve") and not arg:
            return cls.allow()
        if kind == "deny" and not arg:
            return cls.deny()
        if kind == "error":
            return cls.error(arg.strip() or "server_error")
        if kind in ("scopes", "partial"):
            return cls.allow([s.strip() for s in arg.replace(" ", ",").split(",") if s.strip()])
        raise ValueError(
            f"unknown consent outcome {spec!r}; use allow, deny, error:<oauth_error_code> or "
            "scopes:<scope>,<scope>")

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`ConsentDriver.complete`."""
        return {"decision": self.decision,
                "scopes": None if self.scopes is None else list(self.scopes),
                "provider_error": self.provider_error,
                "fields": None if self.fields is None else dict(self.fields)}
