"""``GET/PATCH /api/v3(.1)/org/project/config``: the project settings the fake acts on.

``mask_secret_keys_in_connected_account`` drives masking of connection secrets (see
``credentials.redact_connection_val``); ``oauth_callback_verifier_url`` switches callback
identity verification on (a URL) or off (null). The other settings are stored and echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import bad_request
from .project import Project

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ECHOED = ("is_2FA_enabled", "logo_url", "display_name", "log_visibility_setting",
          "require_mcp_api_key")


def render(project: Project) -> dict[str, Any]:
    out: dict[str, Any] = {k: project.settings[k] for k in ECHOED if k in project.settings}
    out["mask_secret_keys_in_connected_account"] = project.mask_secrets
    out["oauth_callback_verifier_url"] = project.callback_verifier_url
    return out


def check_verifier_url(url: Any) -> str | None:
    """https, or http on a loopback host (the fake's offline stand-in for the real API's SSRF
    checks: an app under test listens on localhost). None disables verification."""
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip():
        raise bad_request("oauth_callback_verifier_url must be a URL or null.",
                          slug="Project_InvalidConfig", code=600,
                          suggested_fix="Send an https URL of your verifier, or null to turn "
                          "callback identity verification off.")
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http") or \
            (parts.scheme == "http" and host not in LOOPBACK_HOSTS):
        raise bad_request(f"oauth_callback_verifier_url must be an https URL, got {url!r}.",
                          slug="Project_InvalidConfig", code=600,
                          suggested_fix="Use https (http is accepted for localhost only).")
    return url.strip()


def set_callback_verifier(project: Project, url: str | None) -> None:
    project.callback_verifier_url = check_verifier_url(url)


def update(project: Project, patch: Mapping[str, Any]) -> None:
    """Only the fields sent change; everything is checked before anything is stored."""
    verifier = project.callback_verifier_url
    if "oauth_callback_verifier_url" in patch:
        verifier = check_verifier_url(patch["oauth_callback_verifier_url"])
    if "mask_secret_keys_in_connected_account" in patch:
        project.mask_secrets = bool(patch["mask_secret_keys_in_connected_account"])
    project.callback_verifier_url = verifier
    for key in ECHOED:
        if key in patch:
            project.settings[key] = patch[key]
