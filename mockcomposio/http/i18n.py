# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The Connect Link page's languages: English, Spanish and Simplified Chinese (as the hosted page
offers them since October 2026).

The language is picked from an explicit ``?locale=`` on the link URL, else the browser's
``Accept-Language``, else English. Only visible text changes: form field names, button names
and values stay the same in every language, so drivers keep working.
"""

from __future__ import annotations

DEFAULT = "en"
HTML_LANG = {"en": "en", "es": "es", "zh": "zh-CN"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "connect_title": "Connect {toolkit}",
        "connect_intro": "Connect your {toolkit} account for user {user}.",
        "permissions": "{toolkit} will be asked for these permissions:",
        "no_scopes": "(no scopes)",
        "continue_to": "Continue to {toolkit}",
        "connect": "Connect",
        "fields_intro": "{toolkit} needs these details before you sign in:",
        "continue": "Continue",
        "connected_title": "Connected",
        "connected_body": "Your account is connected. You can close this tab.",
        "failed_title": "Connection failed",
        "failed_body": "The account could not be connected. You can close this tab.",
    },
    "es": {
        "connect_title": "Conectar {toolkit}",
        "connect_intro": "Conecta tu cuenta de {toolkit} para el usuario {user}.",
        "permissions": "Se solicitarán a {toolkit} estos permisos:",
        "no_scopes": "(sin permisos)",
        "continue_to": "Continuar a {toolkit}",
        "connect": "Conectar",
        "fields_intro": "{toolkit} necesita estos datos antes de iniciar sesión:",
        "continue": "Continuar",
        "connected_title": "Conectado",
        "connected_body": "Tu cuenta está conectada. Puedes cerrar esta pestaña.",
        "failed_title": "Error de conexión",
        "failed_body": "No se pudo conectar la cuenta. Puedes cerrar esta pestaña.",
    },
    "zh": {
        "connect_title": "连接 {toolkit}",
        "connect_intro": "为用户 {user} 连接您的 {toolkit} 账户。",
        "permissions": "将向 {toolkit} 请求以下权限：",
        "no_scopes": "（无权限）",
        "continue_to": "继续前往 {toolkit}",
        "connect": "连接",
        "fields_intro": "登录前，{toolkit} 需要以下信息：",
        "continue": "继续",
        "connected_title": "已连接",
        "connected_body": "您的账户已连接。您可以关闭此标签页。",
        "failed_title": "连接失败",
        "failed_body": "无法连接该账户。您可以关闭此标签页。",
    },
}


def _base(tag: str) -> str | None:
    """``es-MX`` → ``es``; ``zh-Hans-CN`` / ``zh-CN`` → ``zh``; unsupported → None."""
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in MESSAGES else None


def from_accept_language(header: str) -> str | None:
    """The best supported language of an ``Accept-Language`` header (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = _base(tag)
        if lang is not None and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def choose(locale: str | None, accept_language: str | None) -> str:
    if locale:
        lang = _base(locale)
        if lang is not None:
            return lang
    if accept_language:
        lang = from_accept_language(accept_language)
        if lang is not None:
            return lang
    return DEFAULT


def t(lang: str, key: str) -> str:
    return MESSAGES.get(lang, MESSAGES[DEFAULT])[key]
