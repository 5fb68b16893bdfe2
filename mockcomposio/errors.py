"""The one error type of the fake, rendered as Composio's JSON error envelope.

Every 4xx/5xx the server sends goes through :class:`ComposioError`, so the envelope
``{"error": {"message", "code", "slug", "status", "request_id", "suggested_fix", "errors"}}``
is built in exactly one place. Numeric codes follow Composio's published catalogue
(300s auth config, 400s toolkit, 600s connected account, 900s auth service) where one exists.
"""

from __future__ import annotations

from typing import Any


class ComposioError(Exception):
    """A request the fake refuses, with everything needed to render the envelope."""

    def __init__(
        self,
        status: int,
        slug: str,
        message: str,
        *,
        code: int | None = None,
        suggested_fix: str = "",
        errors: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.slug = slug
        self.message = message
        self.code = code if code is not None else status * 10
        self.suggested_fix = suggested_fix
        self.errors = errors or []
        self.headers = headers or {}

    def envelope(self, request_id: str) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "code": self.code,
                "slug": self.slug,
                "status": self.status,
                "request_id": request_id,
                "suggested_fix": self.suggested_fix,
                "errors": list(self.errors),
            }
        }

    def __repr__(self) -> str:
        return f"ComposioError({self.status}, {self.slug!r}, {self.message!r})"


# Constructors for the errors raised in more than one place. Keeping them here means a message
# and slug are worded once.


def bad_request(message: str, *, slug: str = "BadRequest", code: int = 400,
                suggested_fix: str = "", errors: list[str] | None = None) -> ComposioError:
    return ComposioError(400, slug, message, code=code, suggested_fix=suggested_fix,
                         errors=errors)


def validation_error(errors: list[str], *, what: str = "request body") -> ComposioError:
    return ComposioError(
        400,
        "Validation_Error",
        f"Invalid {what}: " + "; ".join(errors[:5]),
        code=301,
        suggested_fix="Fix the fields listed in `errors` and send the request again.",
        errors=errors,
    )


def auth_config_not_found(auth_config_id: str) -> ComposioError:
    return ComposioError(
        404,
        "Auth_Config_NotFound",
        f"Auth config {auth_config_id} not found",
        code=302,
        suggested_fix="Check the auth config id (ac_…) and that it belongs to the project of "
        "this API key; list them with GET /api/v3.1/auth_configs.",
    )


def connected_account_not_found(account_id: str) -> ComposioError:
    return ComposioError(
        404,
        "ConnectedAccount_ResourceNotFound",
        f"Connected account {account_id} not found",
        code=606,
        suggested_fix="Check the connected account id (ca_…) and that it belongs to the project "
        "of this API key; deleted accounts are not returned.",
    )


def toolkit_not_found(slug: str, suggestions: list[str]) -> ComposioError:
    hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
    return ComposioError(
        404,
        "Toolkit_NotFound",
        f"Toolkit '{slug}' not found.{hint}",
        code=402,
        suggested_fix="Use a toolkit slug from GET /api/v3.1/toolkits" + (
            f", e.g. '{suggestions[0]}'." if suggestions else "."),
    )


def missing_api_key() -> ComposioError:
    return ComposioError(
        401,
        "Auth_NoAuthProvided",
        "No API key provided. Send your project API key in the x-api-key header.",
        code=906,
        suggested_fix="Add the header `x-api-key: <any non-empty key>`; every distinct key is "
        "its own isolated project in mockcomposio.",
    )
