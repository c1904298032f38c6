"""`pii`: personal data in the text — e-mail addresses, phone numbers, IP addresses and payment card numbers.

Detection is by regular expression, tuned to prefer precision over recall so the finding list stays short
enough to read:

- e-mail: `local@domain.tld` (RFC 5322's common subset; quoted local parts are not matched).
- phone: an optional `+country`, then 10 to 15 digits in groups separated by spaces, dots or dashes
  (E.164 allows at most 15 digits; fewer than 10 are mostly years, prices and counts).
- IPv4: four dotted octets, each 0-255. IPv6: any valid address with at least three colons.
- card: 13 to 19 digits (ISO/IEC 7812 lengths), spaces or dashes allowed between digits, a first digit of
  2-6 (the card networks' issuer ranges), and the Luhn checksum must hold — random digit runs pass it
  only one time in ten.

One finding per row and kind (`pii_email`, `pii_phone`, `pii_ip`, `pii_card`) with the number of matches in
`matches` and the row's text with the PII masked in `message` (a report never repeats the raw value).
Card numbers are errors; the others warnings. `mask_pii` is what `curate run --mask-pii` applies.
"""

from __future__ import annotations

import re
from collections import Counter

from curate.checks.base import Check, CheckContext
from schemas.findings import CheckResult, Finding, Severity

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}(?![\w-])")
IPV4 = re.compile(r"(?<!\d)(?<!\d\.)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)")
# IPv6 candidates are validated by `ipaddress`, which knows every `::` shortening.
IPV6 = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])")
# Digits with single spaces or dashes between them; the length and Luhn tests run on the digits alone.
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w])")

MASKS = {"card": "[CARD]", "email": "[EMAIL]", "ip": "[IP]", "phone": "[PHONE]"}
SEVERITY = {"card": Severity.error, "email": Severity.warning, "ip": Severity.warning, "phone": Severity.warning}


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum (every card number does)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _is_card(m: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", m.group())
    # Issuer ranges start with 2-6 (Mastercard 2/5, Amex 3, Visa 4, Discover 6): this drops phone numbers
    # like "0011 800-55558000" that pass Luhn by chance.
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits) and len(set(digits)) > 1


def _is_ipv6(m: re.Match[str]) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(m.group())
    except ValueError:
        return False
    return m.group().count(":") >= 3


def _is_phone(m: re.Match[str]) -> bool:
    s = m.group()
    digits = re.sub(r"\D", "", s)
    # A bare run of digits is a number, not a phone: ask for a separator, a `+` or parentheses.
    return 10 <= len(digits) <= 15 and (s.startswith("+") or bool(re.search(r"[ .()-]", s)))


def find_pii(text: str) -> list[tuple[str, int, int]]:
    """All PII spans in `text` as (kind, start, end), non-overlapping, in text order.

    Kinds are matched most specific first (card, e-mail, IP, phone), so a card number is not also a phone.
    """
    spans: list[tuple[str, int, int]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for kind, rx, ok in (("card", CARD, _is_card), ("email", EMAIL, None), ("ip", IPV4, None), ("ip", IPV6, _is_ipv6),
                         ("phone", PHONE, _is_phone)):
        for m in rx.finditer(text):
            if (ok is None or ok(m)) and free(m.start(), m.end()):
                spans.append((kind, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    return sorted(spans, key=lambda s: s[1])


def mask_pii(text: str) -> tuple[str, int]:
    """Replace every e-mail, phone, IP and card number in `text` with a `[KIND]` placeholder.

    Args:
        text: Any text.

    Returns:
        The masked text and the number of masks applied.
    """
    spans = find_pii(text)
    out, pos = [], 0
    for kind, a, b in spans:
        out.append(text[pos:a])
        out.append(MASKS[kind])
        pos = b
    out.append(text[pos:])
    return "".join(out), len(spans)


class PiiCheck(Check):
    name = "pii"
    description = "e-mail addresses, phone numbers, IP addresses and Luhn-valid card numbers in the text"

    def run(self, ctx: CheckContext) -> CheckResult:
        findings: list[Finding] = []
        per_kind: Counter[str] = Counter()
        rows_per_kind: Counter[str] = Counter()
        for rid, text in zip(ctx.ids, ctx.texts, strict=True):
            # Cheap prefilter: every pattern needs a digit or an `@`.
            if "@" not in text and not any(c.isdigit() for c in text):
                continue
            spans = find_pii(text)
            if not spans:
                continue
            kinds = Counter(k for k, _, _ in spans)
            masked = mask_pii(text)[0]
            for kind, n in kinds.items():
                per_kind[kind] += n
                rows_per_kind[kind] += 1
                findings.append(Finding(id=rid, reason=f"pii_{kind}", severity=SEVERITY[kind], matches=n,
                                        message=masked[:200]))
        return self.result(findings, summary={
            "rows_with_pii": len({f.id for f in findings}),
            "matches": dict(per_kind), "rows": dict(rows_per_kind),
        })
