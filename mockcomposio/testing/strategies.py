"""Hypothesis strategies for property tests in downstream suites (needs ``hypothesis``).

They draw from the same toolkit catalogue the fake serves, so every value is one the fake (and
Composio) accepts::

    from hypothesis import given
    from mockcomposio import strategies as mcs

    @given(body=mcs.auth_config_bodies(), user_id=mcs.user_ids())
    def test_any_config_can_be_linked(body, user_id): ...

- :func:`toolkit_slugs`: slugs of toolkits that need auth (optionally: with managed auth, or
  supporting a scheme).
- :func:`scope_sets`: non-empty, duplicate-free subsets of a toolkit's default scopes, in the
  catalogue's order (what a user may grant on the consent page, or an app may request).
- :func:`auth_config_bodies`: valid ``POST /api/v3.1/auth_configs`` bodies: Composio-managed
  (with or without a name and a scope override) and custom (every scheme the toolkit has, with
  its required fields).
- :func:`user_ids`: realistic user ids: emails, UUIDs, ``user_…`` handles, free text.
- :func:`initiation_fields`: the fields a user enters on the Connect Link page: the
  credentials of a non-OAuth scheme (API key, bearer token, basic), or the details some OAuth
  toolkits ask for before sign-in (Jira's and Zendesk's subdomain; none for most).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from ..domain.catalogue import AuthSchemeSpec, Catalogue, Toolkit

__all__ = ["auth_config_bodies", "initiation_fields", "scope_sets", "toolkit_slugs",
           "user_ids"]

MANAGED = "use_composio_managed_auth"
CUSTOM = "use_custom_auth"


@lru_cache(maxsize=1)
def _catalogue() -> Catalogue:
    return Catalogue.load()


def _toolkit(slug: str) -> Toolkit:
    toolkit = _catalogue().get(slug)
    if toolkit is None:
        raise ValueError(f"unknown toolkit {slug!r}; known: "
                         + ", ".join(t.slug for t in _catalogue()))
    return toolkit


def _auth_toolkits(managed: bool | None, scheme: str | None) -> list[Toolkit]:
    out = []
    for t in _catalogue():
        if t.no_auth:
            continue
        if managed is not None and bool(t.managed_schemes) != managed:
            continue
        if scheme is not None and t.scheme(scheme) is None:
            continue
        out.append(t)
    return out


def toolkit_slugs(*, managed: bool | None = None,
                  scheme: str | None = None) -> st.SearchStrategy[str]:
    """Slugs of toolkits that need auth. ``managed=True``: Composio manages auth for them;
    ``scheme="API_KEY"``: they support that scheme."""
    slugs = [t.slug for t in _auth_toolkits(managed, scheme)]
    if not slugs:
        raise ValueError(f"no toolkit matches managed={managed!r}, scheme={scheme!r}")
    return st.sampled_from(slugs)


def scope_sets(toolkit: str, *, min_size: int = 1) -> st.SearchStrategy[list[str]]:
    """Subsets of the toolkit's default OAuth scopes, catalogue order kept."""
    spec = _toolkit(toolkit).default_scheme or _toolkit(toolkit).scheme("OAUTH2")
    scopes = list(spec.default_scopes) if spec is not None else []
    if len(scopes) < min_size:
        raise ValueError(f"toolkit {toolkit!r} has {len(scopes)} default scopes; "
                         f"min_size={min_size} is impossible")
    return st.lists(st.sampled_from(scopes), unique=True, min_size=min_size).map(
        lambda chosen: [s for s in scopes if s in chosen])


def user_ids() -> st.SearchStrategy[str]:
    """User ids as apps use them: emails, UUIDs, ``user_123`` handles, or free printable
    text (non-empty, no surrounding whitespace, no commas, at most 120 characters)."""
    # No commas: list filters take user_ids as a comma-separated query value.
    free_text = st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=","),
        min_size=1, max_size=120,
    ).map(str.strip).filter(bool)
    return st.one_of(
        st.emails().filter(lambda e: len(e) <= 120),
        st.uuids().map(str),
        st.integers(min_value=1, max_value=10**9).map(lambda n: f"user_{n}"),
        free_text,
    )


def _field_value(name: str) -> st.SearchStrategy[str]:
    if name in ("subdomain", "shop"):
        return st.from_regex(r"[a-z][a-z0-9-]{2,20}", fullmatch=True)
    if name == "username":
        return st.emails()
    return st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=8,
                   max_size=64)


def _fields(spec: AuthSchemeSpec, stage: str) -> st.SearchStrategy[dict[str, str]]:
    names = spec.required_field_names(stage)
    return st.fixed_dictionaries({name: _field_value(name) for name in names})


def initiation_fields(toolkit: str, scheme: str) -> st.SearchStrategy[dict[str, str]]:
    """Values for the fields the user enters on the Connect Link page when connecting with
    ``scheme``: a non-OAuth scheme's credentials, or the details an OAuth toolkit needs before
    sign-in (an empty dict when it needs none)."""
    spec = _toolkit(toolkit).scheme(scheme)
    if spec is None:
        raise ValueError(f"toolkit {toolkit!r} has no {scheme} scheme")
    return _fields(spec, "connected_account_initiation")


def _managed_body(toolkit: Toolkit) -> st.SearchStrategy[dict[str, Any]]:
    spec = toolkit.default_scheme
    assert spec is not None
    options: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "name": st.text(min_size=1, max_size=60).map(str.strip).filter(bool)}
    if spec.is_oauth and spec.default_scopes:
        optional["credentials"] = scope_sets(toolkit.slug).flatmap(
            lambda scopes: st.sampled_from([",".join(scopes), scopes]).map(
                lambda value: {"scopes": value}))
    auth_config = st.fixed_dictionaries({"type": st.just(MANAGED), **options},
                                        optional=optional)
    return auth_config.map(lambda ac: {"toolkit": {"slug": toolkit.slug}, "auth_config": ac})


def _custom_body(toolkit: Toolkit, spec: AuthSchemeSpec) -> st.SearchStrategy[dict[str, Any]]:
    credentials = _fields(spec, "auth_config_creation")
    if spec.is_oauth and spec.default_scopes:
        credentials = st.tuples(credentials, st.none() | scope_sets(toolkit.slug)).map(
            lambda pair: {**pair[0], **({"scopes": ",".join(pair[1])} if pair[1] else {})})
    return credentials.map(lambda creds: {
        "toolkit": {"slug": toolkit.slug},
        "auth_config": {"type": CUSTOM, "authScheme": spec.mode, "credentials": creds}})


def auth_config_bodies(toolkit: str | None = None, *,
                       managed: bool | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Valid create bodies for ``POST /api/v3.1/auth_configs`` (the SDK's
    ``auth_configs.create(toolkit, options)`` sends ``auth_config`` as ``options``).
    ``managed=True`` / ``False`` restricts to one kind."""
    toolkits = [_toolkit(toolkit)] if toolkit else _auth_toolkits(None, None)
    choices: list[st.SearchStrategy[dict[str, Any]]] = []
    for t in toolkits:
        if managed is not False and t.managed_schemes:
            choices.append(_managed_body(t))
        if managed is not True:
            choices.extend(_custom_body(t, spec) for spec in t.schemes)
    if not choices:
        raise ValueError(f"no auth config body for toolkit={toolkit!r}, managed={managed!r}")
    return st.one_of(choices)
