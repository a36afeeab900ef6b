"""Item identity and canonical URLs.

An item's key must be the same on every poll and after every restart, or a
story alerts twice. The order is the feed's own guid/id; else the canonical
link; else a hash of title and date. Keys are prefixed with the rung that made
them (``guid:``, ``url:``, ``hash:``) so the rungs can never collide.

Changing :func:`canonical_url` changes keys of guid-less items, which would
re-alert them: treat its behaviour as part of the stored data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from watchers.parse import Entry

__all__ = ["IdentifiedItem", "canonical_url", "identify", "item_key"]

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "ga_")
_TRACKING_NAMES = frozenset(
    [
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "ref_src",
        "ncid",
        "cmpid",
        "spm",
    ]
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Redirect wrappers whose real target sits in a query parameter (Google Alerts/News).
_WRAPPERS = {("google.com", "/url"): ("url", "q")}


@dataclass(frozen=True, slots=True)
class IdentifiedItem:
    """A parsed entry with its stable key; what the poll stage hands to matching and storage."""

    key: str
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    published_at: datetime | None


def canonical_url(url: str | None, *, keep_fragment: bool = False) -> str | None:
    """The URL with noise removed: lower-cased scheme and host, no ``www.``, default port,
    fragment or tracking parameters, and redirect wrappers unwrapped.

    Identity keeps the fragment (``news.html#2018-10-06`` and ``#2018-11-02`` are
    different posts); story clustering drops it.

    Returns None for anything that is not an absolute http(s) URL.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    host = host.removeprefix("www.")
    query = parse_qsl(parts.query, keep_blank_values=True)
    for name in _WRAPPERS.get((host, parts.path), ()):
        target = dict(query).get(name)
        if target and target.startswith(("http://", "https://")):
            return canonical_url(target, keep_fragment=keep_fragment)
    kept = [(k, v) for k, v in query if not _is_tracking(k)]
    literal = f"[{host}]" if ":" in host else host  # IPv6 hosts keep their brackets
    netloc = literal if port in (None, _DEFAULT_PORTS[scheme]) else f"{literal}:{port}"
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(kept, doseq=True), fragment))


def item_key(entry: Entry, *, shared_link: bool = False) -> str:
    """The stable identity of one entry (see the module docstring for the order).

    ``shared_link``: the feed gives this link to several different entries
    (a news page that lists every post at one URL), so the link alone cannot
    tell them apart and the hash rung includes it.
    """
    return _key(entry, canonical_url(entry.link, keep_fragment=True), shared_link)


def identify(entries: Iterable[Entry]) -> list[IdentifiedItem]:
    """Give each entry its key; an entry whose key appeared earlier in the feed is dropped."""
    entries = list(entries)
    links = [canonical_url(entry.link, keep_fragment=True) for entry in entries]
    titles_by_link: dict[str, set[str]] = {}
    for entry, link in zip(entries, links, strict=True):
        if link and not _guid(entry):
            titles_by_link.setdefault(link, set()).add(entry.title)
    shared = {link for link, titles in titles_by_link.items() if len(titles) > 1}
    seen: set[str] = set()
    items = []
    for entry, link in zip(entries, links, strict=True):
        key = _key(entry, link, link in shared)
        if key in seen:
            continue
        seen.add(key)
        items.append(
            IdentifiedItem(
                key=key,
                url=entry.link,
                # A link that several entries share (a news page) names none of them,
                # so it cannot say two items are one story either.
                canonical_url=link.partition("#")[0] if link and link not in shared else None,
                title=entry.title,
                summary=entry.summary,
                published_at=entry.published_at,
            )
        )
    return items


def _guid(entry: Entry) -> str:
    return entry.guid.strip() if entry.guid else ""


def _key(entry: Entry, link: str | None, shared_link: bool) -> str:
    if guid := _guid(entry):
        return "guid:" + guid
    if link and not shared_link:
        return "url:" + link
    basis = "\x1f".join(
        (link or "", entry.title, entry.date_text or "", "" if entry.title else entry.summary)
    )
    return "hash:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)
