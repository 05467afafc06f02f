"""How people really type (真实的打字习惯): typos, chat abbreviations and mixed
Chinese-English, applied to a text deterministically (the same text always gets the same
variant), so the simulator can precompute them once per catalog body.

- English typos: a common misspelling when the text has a word people often misspell
  (receive → recieve), else one letter swapped with its neighbour, dropped or doubled.
- Chinese typos: near-homophone or look-alike characters people really mix up
  (登录 → 登陆, 账 → 帐, 再 → 在), else half-width punctuation typed on a phone.
- Mixed language: Chinese with the English words Chinese customers often drop in
  (退款 → refund, 账户 → account, 密码 → password); English in chat style (please → pls).
"""

from __future__ import annotations

import re
import zlib

_MISSPELLED = {
    "receive": "recieve", "received": "recieved", "definitely": "definately",
    "account": "acount", "cancel": "cancle", "cancelled": "canceled", "address": "adress",
    "because": "becuase", "separate": "seperate", "tomorrow": "tommorow", "their": "there",
    "payment": "payemnt", "delivery": "delivary", "delivered": "deliverd",
    "refund": "refnd", "weeks": "weks", "arrived": "arived", "waiting": "wating",
    "charged": "charge", "really": "realy", "until": "untill", "which": "wich",
    "disappointed": "dissapointed", "immediately": "immediatly", "unauthorised": "unauthorized",
    "already": "allready", "it's": "its", "i'm": "im", "didn't": "didnt", "don't": "dont",
}  # fmt: skip
_HOMOPHONES = (
    ("登录", "登陆"), ("账", "帐"), ("已经", "以经"), ("反映", "反应"), ("再", "在"),
    ("的时候", "得时候"), ("一下", "一下下"), ("怎么", "咋"), ("什么", "啥"), ("没有", "木有"),
    ("做", "作"), ("像", "象"), ("哪里", "那里"), ("按时", "安时"), ("处理", "处里"),
)  # fmt: skip
_HALF_WIDTH = (("，", ","), ("？", "?"), ("！", "!"), ("。", "."))
_ENGLISH_IN_CHINESE = (
    ("退款", "refund"), ("账户", "account"), ("账号", "account"), ("密码", "password"),
    ("订单", "order"), ("验证码", "code"), ("优惠券", "coupon"), ("会员", "VIP"),
    ("应用", "app"), ("APP", "app"), ("邮件", "email"), ("邮箱", "email"),
    ("信用卡", "credit card"), ("套餐", "plan"), ("发票", "invoice"), ("取消", "cancel"),
    ("投诉", "complain"), ("网速", "wifi"), ("截图", "screenshot"),
    ("尽快", "asap"), ("问题", "issue"),
)  # fmt: skip
_CHAT = (
    ("please", "pls"), ("Please", "Pls"), ("you", "u"), ("You", "U"), ("thanks", "thx"),
    ("Thanks", "Thx"), ("are", "r"), ("because", "cos"), ("as soon as possible", "asap"),
    ("to be honest", "tbh"), ("I don't know", "idk"), ("before", "b4"),
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z']+")


def _pick(text: str, salt: str, n: int) -> int:
    """A stable choice among n, from the text itself (no random state)."""
    return zlib.crc32(f"{salt}:{text}".encode()) % n


def with_typo(text: str, chinese: bool) -> str:
    """The text with one plausible typo (the same text always gets the same typo).

    >>> with_typo("I never received the refund", chinese=False)
    'I never received the refnd'
    >>> with_typo("Nobody answers my tickets", chinese=False)
    'Nobody answwers my tickets'
    >>> with_typo("我的账户登录不了", chinese=True)
    '我的账户登陆不了'
    """
    if chinese:
        found = [(a, b) for a, b in _HOMOPHONES if a in text]
        if not found:
            found = [(a, b) for a, b in _HALF_WIDTH if a in text]
        if not found:
            return text
        a, b = found[_pick(text, "zh", len(found))]
        return text.replace(a, b, 1)
    words = list(_WORD.finditer(text))
    known = [w for w in words if w.group().lower() in _MISSPELLED]
    if known:
        w = known[_pick(text, "known", len(known))]
        wrong = _MISSPELLED[w.group().lower()]
        wrong = wrong.capitalize() if w.group()[0].isupper() else wrong
        return text[: w.start()] + wrong + text[w.end() :]
    long = [w for w in words if len(w.group()) >= 5]
    if not long:
        return text
    w = long[_pick(text, "word", len(long))]
    s, i = w.group(), 1 + _pick(text, "at", len(w.group()) - 3)
    kind = _pick(text, "kind", 3)
    if kind == 0:
        s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]  # swapped with its neighbour
    elif kind == 1:
        s = s[:i] + s[i + 1 :]  # dropped
    else:
        s = s[:i] + s[i] + s[i:]  # doubled
    return text[: w.start()] + s + text[w.end() :]


def mixed_language(text: str, chinese: bool) -> str:
    """Chinese with English words mixed in (up to two); English in chat style.

    >>> mixed_language("退款三周了还没到账！", chinese=True)
    'refund三周了还没到账！'
    >>> mixed_language("Please refund me, thanks", chinese=False)
    'Pls refund me, thanks'
    """
    if chinese:
        for a, b in [(a, b) for a, b in _ENGLISH_IN_CHINESE if a in text][:2]:
            i = text.index(a)
            before, after = text[:i], text[i + len(a) :]
            left = " " if before[-1:].isascii() and before[-1:].isalnum() else ""
            right = " " if after[:1].isascii() and after[:1].isalnum() else ""
            text = before + left + b + right + after
        return text
    for a, b in _CHAT:
        if re.search(rf"\b{re.escape(a)}\b", text):
            return re.sub(rf"\b{re.escape(a)}\b", b, text, count=1)
    return text


__all__ = ["mixed_language", "with_typo"]
