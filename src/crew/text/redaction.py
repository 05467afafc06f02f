"""Personal data out of every text that is shown or logged (个人信息脱敏).

One function for every place a text leaves the store: evidence in reasons, log lines, API
answers, key phrases. It masks e-mail addresses, Chinese mobile numbers and other phone
formats, 18-digit resident ID numbers whose check digit is right (other long digit runs,
such as card numbers, are masked as numbers) and the names of the workspace's customers.

Names are looked up, not matched by a pattern: Chinese names as 2-4 character runs inside
Chinese text, Latin names as runs of 2-3 words, each against a set built from the
`customers` table, so a store with millions of customers costs one set lookup per position.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
ID_NUMBER = "[ID]"
NUMBER = "[NUMBER]"
NAME = "[NAME]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 18-digit resident ID: 6 region digits, birth date, 3 sequence digits, a check digit.
_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CN_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d{4}){2}(?!\d)")
_OTHER_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[\s\-.]?(?:\(\d{1,4}\)[\s\-.]?)?\d{1,4}(?:[\s\-.]?\d{2,4}){1,4}"  # +44 20 7946 0958
    r"|\(0?\d{2,4}\)[\s\-]?\d{3,4}[\s\-]?\d{3,4}"  # (010) 6552 1234, (415) 555-0199
    r"|0\d{2,3}-\d{7,8}"  # 010-65521234
    r"|\d{3}[\-.]\d{3}[\-.]\d{4}"  # 415-555-0199
    r"|400[\-\s]?\d{3}[\-\s]?\d{4}"  # 400-820-1234
    r")(?!\d)"
)
_LONG_DIGITS = re.compile(r"(?<!\d)\d(?:[\s\-]?\d){11,22}(?!\d)")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_valid_id_number(value: str) -> bool:
    """True when an 18-character resident ID number has the right check digit (GB 11643).

    >>> is_valid_id_number("11010519491231002X"), is_valid_id_number("110105194912310021")
    (True, False)
    """
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


@dataclass(frozen=True)
class Redactor:
    """Masks personal data; knows the customers' names it was built with."""

    chinese_names: frozenset[str] = field(default_factory=frozenset)
    latin_names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def with_names(cls, names: Iterable[str | None]) -> Redactor:
        """A redactor that also masks these names (Latin names in either word order)."""
        chinese: set[str] = set()
        latin: set[str] = set()
        for raw in names:
            name = (raw or "").strip()
            if _CJK_RUN.fullmatch(name) and 2 <= len(name) <= 4:
                chinese.add(name)
            else:
                words = [w.lower() for w in _WORD.findall(name)]
                if 2 <= len(words) <= 3:
                    latin.add(" ".join(words))
                    latin.add(" ".join(reversed(words)))
        return cls(frozenset(chinese), frozenset(latin))

    def redact(self, text: str) -> str:
        """`text` with e-mails, phones, ID numbers, long numbers and known names masked.

        >>> r = Redactor.with_names(["张伟", "Anna Lee"])
        >>> r.redact("张伟 13812345678, anna.lee@mail.com, Lee Anna 11010519491231002X")
        '[NAME] [PHONE], [EMAIL], [NAME] [ID]'
        """
        text = _EMAIL.sub(EMAIL, text)
        text = _ID18.sub(_id_or_number, text)
        text = _CN_MOBILE.sub(PHONE, text)
        text = _OTHER_PHONE.sub(PHONE, text)
        text = _LONG_DIGITS.sub(NUMBER, text)
        if self.chinese_names:
            text = _CJK_RUN.sub(self._mask_chinese, text)
        if self.latin_names:
            text = self._mask_latin(text)
        return text

    def _mask_chinese(self, match: re.Match[str]) -> str:
        run, out, i = match.group(0), [], 0
        while i < len(run):
            for size in (4, 3, 2):
                if run[i : i + size] in self.chinese_names:
                    out.append(NAME)
                    i += size
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    def _mask_latin(self, text: str) -> str:
        words = list(_WORD.finditer(text))
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(words):
            for size in (3, 2):
                group = words[i : i + size]
                if len(group) == size and self._adjacent(text, group):
                    key = " ".join(w.group(0).lower() for w in group)
                    if key in self.latin_names:
                        spans.append((group[0].start(), group[-1].end()))
                        i += size
                        break
            else:
                i += 1
        for start, end in reversed(spans):
            text = text[:start] + NAME + text[end:]
        return text

    @staticmethod
    def _adjacent(text: str, group: list[re.Match[str]]) -> bool:
        return all(
            text[a.end() : b.start()].strip(" ,") == "" for a, b in itertools.pairwise(group)
        )


def _id_or_number(match: re.Match[str]) -> str:
    return ID_NUMBER if is_valid_id_number(match.group(0)) else NUMBER


_PLAIN = Redactor()


def redact(text: str, redactor: Redactor | None = None) -> str:
    """`text` with personal data masked; pass a `Redactor` built from the store for names.

    >>> redact("call me on 138-1234-5678 or +44 20 7946 0958, mail a@b.cn")
    'call me on [PHONE] or [PHONE], mail [EMAIL]'
    """
    return (redactor or _PLAIN).redact(text)


def redactor_from_store(conn: duckdb.DuckDBPyConnection) -> Redactor:
    """A redactor that knows every customer name in the workspace's `customers` table."""
    rows = conn.execute("SELECT DISTINCT name FROM customers WHERE name IS NOT NULL").fetchall()
    return Redactor.with_names(r[0] for r in rows)


__all__ = [
    "Redactor",
    "is_valid_id_number",
    "redact",
    "redactor_from_store",
]
