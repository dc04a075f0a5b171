"""Links in comment text, and the link rules: blocked domains, links from new readers, shorteners.

A link is an http(s) URL, a `www.` address, or a bare domain ("cheap-pills.ru",
"shop.example.com/deal") whose top-level domain is a common one or which has a path. Ordinary
words with dots ("e.g.", "U.S.", "3.5", "end.Next") are not links. Not seen: addresses spelled out
to dodge filters ("example dot com"), bare IP addresses, and e-mail addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from ..moderation.policy import Reason
from .reasons import SpamReason


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Top-level domains that make a bare "name.tld" a link with no path. Left out on purpose: those
# that are also words or file extensions ("it", "is", "in", "me", "no", "to", "py", "md", "sh"),
# since "done.it" or "setup.py" is far more often a typo or a file name than an address; with a
# path, `www.` or a scheme they are links all the same.
KNOWN_TLDS = _names(
    """
    com net org info biz edu gov mil int mobi name pro asia tel travel jobs xxx io co ai app dev
    tech cloud online site website space store shop club xyz top icu buzz vip live link click loan
    loans win bid work news blog email digital media network agency ltd casino bet poker porn sex
    adult dating cam cash money credit finance pharmacy deals sale download stream review reviews
    racing gdn cyou cfd sbs bond quest lol pics monster lat uk de fr nl ru su ua cn jp kr tw hk sg
    vn ph th pk bd ng ke za eg sa ae ir tr il kz by pl cz sk hu ro bg gr pt es ch se dk fi ie lt lv
    ee hr si ca au nz mx ar cl pe br ve eu ly gl gd tk ml ga cf gq pw cc tv ws fm gg cx
    """
)

# Second-level suffixes under which names are registered ("bbc.co.uk", not "co.uk"). A small
# built-in list of the common ones: it misses the rest of the Public Suffix List, notably
# hosting platforms where each subdomain has its own owner ("x.blogspot.com", "x.github.io" give
# "blogspot.com", "github.io"). Domain lists match hosts, not these domains, so a site can still
# block one such blog by its full name.
SECOND_LEVEL_SUFFIXES = _names(
    """
    co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk sch.uk nhs.uk com.au net.au org.au edu.au
    gov.au asn.au id.au co.nz net.nz org.nz govt.nz ac.nz co.jp ne.jp or.jp ac.jp go.jp ad.jp co.kr
    or.kr ne.kr ac.kr go.kr co.za org.za gov.za ac.za co.in net.in org.in gov.in ac.in firm.in
    co.id or.id ac.id go.id co.il org.il ac.il gov.il co.th ac.th go.th com.br net.br org.br gov.br
    com.cn net.cn org.cn gov.cn edu.cn com.hk org.hk edu.hk gov.hk com.tw org.tw edu.tw gov.tw
    com.sg edu.sg gov.sg com.my org.my edu.my com.mx org.mx gob.mx com.ar gob.ar com.tr gov.tr
    org.tr com.ua org.ua gov.ua com.pl net.pl org.pl com.ph com.vn com.pk com.ng com.eg com.sa
    com.co com.pe com.ve com.uy com.ec
    """
)

# URL shorteners hide where a link goes, so they are never on a site's allowed list.
SHORTENERS = _names(
    """
    bit.ly bitly.com t.co tinyurl.com goo.gl ow.ly is.gd v.gd buff.ly rebrand.ly cutt.ly
    shorturl.at tiny.cc tiny.one t.ly s.id rb.gy bl.ink short.io shorte.st adf.ly bc.vc ouo.io
    lnkd.in db.tt qr.ae cli.gs po.st mcaf.ee su.pr x.co u.to j.mp tr.im soo.gd clck.ru surl.li
    trib.al dlvr.it ift.tt linktr.ee lnk.to snip.ly tinu.be
    """
)


@dataclass(frozen=True)
class Link:
    """A link found in a text: `start`/`end` are offsets into it, `host` is lower-case Unicode."""

    url: str
    host: str
    domain: str
    start: int
    end: int


_LABEL = r"[^\W_](?:[^\W_]|-){0,62}"
_TLD = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_PATH = r"[/?#][^\s<>\"`]*"
_LINK = re.compile(
    # A URL with a scheme; user info ("http://bank.com@evil.ru") is skipped, the host is after it.
    rf"(?P<scheme>https?://)(?:[^\s@/?#<>\"`]*@)?"
    rf"(?P<shost>\[[0-9a-f:.]+\]|(?:{_LABEL}\.)*{_LABEL})\.?(?::\d{{1,5}})?(?:{_PATH})?"
    # Or a bare domain, `www.` ones included; not inside a word, a path or an e-mail address.
    rf"|(?<![\w.@/:#-])(?P<bhost>(?:{_LABEL}\.)+(?P<tld>{_TLD}))(?![\w-])"
    rf"(?::\d{{1,5}})?(?P<path>{_PATH})?",
    re.IGNORECASE,
)
# Every link has a "." before a letter or a "://", and no white space: the full pattern runs only
# on the words that have one: prose with no links is scanned three times faster. (Starting at
# word starts only keeps the scan linear in long words.)
_MAY_HOLD_LINK = re.compile(r"(?<!\S)\S*?(?:\.[^\W\d_]|://)\S*")
# Ideographic and full-width full stops separate labels like "." does (one character each, so
# offsets into the original text stay right).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_TRAILING = ".,;:!?'\"*"
_CLOSING = {")": "(", "]": "[", "}": "{"}


def _strip_trailing(text: str, start: int, end: int) -> int:
    """Sentence punctuation after a URL is not part of it; a closing bracket is, when the URL
    opened it ("https://en.wikipedia.org/wiki/Python_(language)")."""
    while end > start:
        last = text[end - 1]
        if (
            last in _TRAILING
            or last in _CLOSING
            and text.count(_CLOSING[last], start, end) < text.count(last, start, end)
        ):
            end -= 1
        else:
            break
    return end


def _decode_label(label: str) -> str:
    if label.startswith("xn--"):
        try:
            return label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return label
    return label


def normalise_host(host: str) -> str:
    """Lower-case, IDNA-decoded ("xn--bcher-kva.de" -> "bücher.de"), no trailing dot."""
    host = host.strip().lower().rstrip(".")
    return ".".join(_decode_label(label) for label in host.split("."))


def normalise_domain(entry: str) -> str:
    """A domain as a site may write it on its lists ("https://Example.com/", "*.example.com")
    reduced to a host name that links are compared with."""
    entry = entry.strip().translate(_DOTS)
    entry = re.sub(r"^[a-z][a-z0-9+.-]*://", "", entry, flags=re.IGNORECASE)
    entry = re.split(r"[/?#]", entry, maxsplit=1)[0].rpartition("@")[2]
    entry = re.sub(r":\d*$", "", entry)
    return normalise_host(entry.lstrip("*").lstrip("."))


def registrable_domain(host: str) -> str:
    """The registrable part of a host: the last two labels, or three under a common second-level
    suffix ("news.bbc.co.uk" -> "bbc.co.uk"). An IP address is its own domain."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in SECOND_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _is_sentence_break(host: str, tld: str) -> bool:
    # "the end.It was" is a missing space, not a domain: a capitalised word after a lower-case one.
    before = host[: -len(tld) - 1]
    return tld[0].isupper() and not tld.isupper() and before[-1:].islower()


def find_links(text: str) -> list[Link]:
    """The links in a text, in order."""
    scanned = text.translate(_DOTS)
    links: list[Link] = []
    for word in _MAY_HOLD_LINK.finditer(scanned):
        links += _links_in(text, scanned, word.start(), word.end())
    return links


def _links_in(text: str, scanned: str, start: int, end: int) -> list[Link]:
    links: list[Link] = []
    for match in _LINK.finditer(scanned, start, end):
        if match["scheme"]:
            host = match["shost"]
        else:
            host, tld = match["bhost"], match["tld"]
            is_www = host.lower().startswith("www.")
            if not is_www and (
                _is_sentence_break(host, tld) or (tld.lower() not in KNOWN_TLDS and not match["path"])
            ):
                continue
        end = _strip_trailing(scanned, match.start(), match.end())
        host = normalise_host(host)
        links.append(Link(text[match.start() : end], host, registrable_domain(host), match.start(), end))
    return links


def _matching_entry(host: str, entries: Set[str]) -> str | None:
    """The most specific list entry a host is or is under, if any ("a.b.example.com" is under
    "example.com", "notexample.com" is not)."""
    labels = host.split(".")
    for i in range(len(labels)):
        suffix = ".".join(labels[i:])
        if suffix in entries:
            return suffix
    return None


def without_allowed_links(text: str, links: Sequence[Link], allowed_domains: Iterable[str]) -> str:
    """The text with its links to allowed domains (never shorteners) taken out: what the spam
    model should judge, since a link the site vouches for is no sign of spam."""
    allowed = {normalise_domain(d) for d in allowed_domains} - {""}
    cut = [
        link
        for link in links
        if _matching_entry(link.host, allowed) is not None and not is_shortener(link.host)
    ]
    for link in sorted(cut, key=lambda link: link.start, reverse=True):
        text = text[: link.start] + text[link.end :]
    return text


def is_shortener(host: str) -> bool:
    return _matching_entry(host, SHORTENERS) is not None


def judge_links(
    links: Sequence[Link],
    *,
    allowed_domains: Iterable[str],
    blocked_domains: Iterable[str],
    reader_is_new: bool,
    anonymous: bool,
) -> list[Reason]:
    """One reason per link that needs a moderator, with its domain and offsets:
    - `link_blocked_domain`: the host is on the blocked list or under a domain on it, whoever
      posts it; blocked wins over allowed.
    - `link_shortener`: a URL shortener from an anonymous or new reader. Shorteners are never
      allowed, even when listed: allowing bit.ly would allow wherever it points.
    - `link_from_new_reader`: any other link from an anonymous or new reader to a host that is
      not on the allowed list (nor under a domain on it).
    Readers who are neither anonymous nor new may link anywhere that is not blocked."""
    allowed = {normalise_domain(d) for d in allowed_domains} - {""}
    blocked = {normalise_domain(d) for d in blocked_domains} - {""}
    unknown_reader = reader_is_new or anonymous
    reasons: list[Reason] = []
    for link in links:
        where = {"domain": link.domain, "matched": link.url, "start": link.start, "end": link.end}
        blocked_by = _matching_entry(link.host, blocked)
        if blocked_by is not None:
            reasons.append(SpamReason("link_blocked_domain", word=blocked_by, **where))
        elif unknown_reader and is_shortener(link.host):
            reasons.append(SpamReason("link_shortener", **where))
        elif unknown_reader and _matching_entry(link.host, allowed) is None:
            reasons.append(SpamReason("link_from_new_reader", **where))
    return reasons
