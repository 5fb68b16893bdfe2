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
    """Where the browser ended up."""

    final_url: str            # the app callback URL, or the last page of the fake
    status_code: int          # HTTP status of the last response from the fake
    left_fake: bool           # True when the last redirect pointed outside the fake
    visited: list[str]
    page_text: str = ""

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.final_url).query,
                                               keep_blank_values=True).items()}

    @property
    def status(self) -> str | None:
        return self.query.get("status")

    @property
    def connected_account_id(self) -> str | None:
        q = self.query
        return q.get("connected_account_id") or q.get("connectedAccountId")

    @property
    def error(self) -> str | None:
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
