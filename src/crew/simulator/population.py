"""Customers: segment, tier, region, signup date, latent traits and synthetic PII."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crew.simulator.profiles import (
    TIER_RATE_MULT,
    TIER_SHARES,
    TIER_SPEND_SHIFT,
    IndustryProfile,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Province (pinyin), share of customers, first two digits of PRC resident id numbers.
_REGIONS = (
    ("Guangdong", 12.0, 44), ("Shandong", 7.0, 37), ("Henan", 6.5, 41), ("Jiangsu", 7.0, 32),
    ("Sichuan", 6.0, 51), ("Hebei", 5.0, 13), ("Zhejiang", 6.5, 33), ("Hunan", 4.5, 43),
    ("Hubei", 4.2, 42), ("Anhui", 4.0, 34), ("Guangxi", 3.3, 45), ("Yunnan", 3.0, 53),
    ("Jiangxi", 3.0, 36), ("Liaoning", 3.0, 21), ("Fujian", 3.2, 35), ("Shaanxi", 2.8, 61),
    ("Beijing", 4.0, 11), ("Shanghai", 4.5, 31), ("Chongqing", 2.5, 50), ("Tianjin", 1.5, 12),
    ("Heilongjiang", 2.0, 23), ("Jilin", 1.5, 22), ("Shanxi", 2.0, 14), ("Guizhou", 2.0, 52),
    ("Gansu", 1.2, 62), ("Inner Mongolia", 1.2, 15), ("Xinjiang", 1.2, 65), ("Hainan", 0.7, 46),
    ("Ningxia", 0.5, 64), ("Qinghai", 0.4, 63), ("Tibet", 0.2, 54),
)  # fmt: skip
REGION_NAMES = tuple(r[0] for r in _REGIONS)
_REGION_P = np.array([r[1] for r in _REGIONS]) / sum(r[1] for r in _REGIONS)
_REGION_CODE = np.array([r[2] for r in _REGIONS], dtype=np.int64)

_SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
)  # fmt: skip
_GIVEN = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("英", "ying"), ("华", "hua"), ("玉", "yu"),
    ("文", "wen"), ("辉", "hui"), ("建", "jian"), ("国", "guo"), ("鹏", "peng"), ("婷", "ting"),
    ("雪", "xue"), ("琳", "lin"), ("浩", "hao"), ("宇", "yu"), ("欣", "xin"), ("子", "zi"),
    ("涵", "han"), ("晨", "chen"), ("思", "si"), ("嘉", "jia"),
)  # fmt: skip
_FIRST = (
    "James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia",
    "Kevin", "Grace", "Jason", "Emily", "Eric", "Sophia", "Tony", "Amy", "Leo", "Chloe", "Ryan",
    "Lily", "Peter", "Anna",
)  # fmt: skip
_LAST = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Chen", "Wong", "Lee", "Miller", "Davis",
    "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Green", "Baker", "Adams",
)  # fmt: skip
_CN_MAIL = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
_EN_MAIL = ("gmail.com", "outlook.com", "hotmail.com", "yahoo.com")
_MOBILE_PREFIX = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 157, 158, 159, 166, 177,
     180, 181, 182, 183, 185, 186, 187, 188, 189, 198, 199], dtype=np.int64,
)  # fmt: skip
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


@dataclass(frozen=True)
class Population:
    """One chunk of customers: visible attributes plus the latent traits that drive them."""

    index: IntArray
    segment: npt.NDArray[np.int8]
    tier: npt.NDArray[np.int8]
    region: npt.NDArray[np.int16]
    signup_day: IntArray
    engagement: FloatArray
    spend_shift: FloatArray
    satisfaction: FloatArray
    chinese: BoolArray
    pii: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.index)


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> pa.Array:
    return pa.array(values, pa.string()).take(pa.array(rng.integers(0, len(values), n)))


def _digits(values: IntArray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _phone_text(numbers: IntArray) -> pa.Array:
    """Mobile numbers written 138-1234-5678 (text, so CSV readers keep them as text)."""
    head, mid, tail = numbers // 100_000_000, numbers // 10_000 % 10_000, numbers % 10_000
    pad = {"width": 4, "padding": "0"}
    return _join(
        _digits(head), "-", pc.utf8_lpad(_digits(mid), **pad), "-",
        pc.utf8_lpad(_digits(tail), **pad),
    )  # fmt: skip


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def check_digit(first17: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """ISO 7064 MOD 11-2 check character (ASCII) of 17-digit PRC id prefixes, one per row.

    >>> digits = np.array([[int(c) for c in "11010519491231002"]])
    >>> bytes(check_digit(digits)).decode()
    'X'
    """
    return np.asarray(_ID_CHECK[(first17 * _ID_WEIGHTS).sum(axis=1) % 11], dtype=np.uint8)


def _id_numbers(
    rng: np.random.Generator, region: npt.NDArray[np.int16], birth: npt.NDArray[np.datetime64]
) -> pa.Array:
    n = len(region)
    area = _REGION_CODE[region] * 10_000 + rng.integers(1, 18, n) * 100 + rng.integers(1, 30, n)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = birth.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (birth - month_start).astype(np.int64) + 1
    stamp = year * 10_000 + month * 100 + day
    seq = rng.integers(1, 1000, n)
    number = (area * 100_000_000 + stamp) * 1000 + seq
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    first17 = (number[:, None] // powers) % 10
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = first17 + ord("0")
    chars[:, 17] = check_digit(first17)
    return pa.array(chars.view("S18").ravel()).cast(pa.string())


def _names_and_emails(rng: np.random.Generator, chinese: BoolArray) -> tuple[pa.Array, pa.Array]:
    n = len(chinese)
    sur = rng.choice(len(_SURNAMES), n, p=_surname_p())
    g1 = rng.integers(0, len(_GIVEN), n)
    g2 = rng.integers(0, len(_GIVEN), n)
    two = rng.random(n) < 0.7
    zh_sur = pa.array([s[0] for s in _SURNAMES]).take(pa.array(sur))
    py_sur = pa.array([s[1] for s in _SURNAMES]).take(pa.array(sur))
    giv = pa.array([g[0] for g in _GIVEN])
    pyg = pa.array([g[1] for g in _GIVEN])
    empty = pa.array([""] * 1)
    g2_idx = pa.array(np.where(two, g2, 0))
    zh_g2 = pc.if_else(pa.array(two), giv.take(g2_idx), empty.take(pa.array(np.zeros(n, int))))
    py_g2 = pc.if_else(pa.array(two), pyg.take(g2_idx), empty.take(pa.array(np.zeros(n, int))))
    zh_name = _join(zh_sur, giv.take(pa.array(g1)), zh_g2)
    first = _pick(rng, _FIRST, n)
    last = _pick(rng, _LAST, n)
    en_name = _join(first, " ", last)
    number = _digits(rng.integers(10, 9999, n))
    qq = rng.random(n) < 0.35
    zh_mail = pc.if_else(
        pa.array(qq),
        _join(_digits(rng.integers(10_000_000, 3_999_999_999, n)), "@qq.com"),
        _join(pyg.take(pa.array(g1)), py_g2, py_sur, number, "@", _pick(rng, _CN_MAIL, n)),
    )
    en_mail = _join(
        pc.utf8_lower(first), ".", pc.utf8_lower(last), number, "@", _pick(rng, _EN_MAIL, n)
    )
    mask = pa.array(chinese)
    return pc.if_else(mask, zh_name, en_name), pc.if_else(mask, zh_mail, en_mail)


def _surname_p() -> FloatArray:
    weights = 1.0 / np.sqrt(np.arange(1, len(_SURNAMES) + 1))
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def draw_population(
    rng: np.random.Generator,
    index: IntArray,
    profile: IndustryProfile,
    days: int,
    start: np.datetime64,
    new_share: float,
) -> Population:
    """Draw one chunk of customers (global indices `index`) for a period of `days` days."""
    n = len(index)
    seg_p = np.array([s.share for s in profile.segments])
    segment = rng.choice(len(seg_p), n, p=seg_p / seg_p.sum()).astype(np.int8)
    tier = rng.choice(3, n, p=np.array(TIER_SHARES)).astype(np.int8)
    region = rng.choice(len(_REGION_P), n, p=_REGION_P).astype(np.int16)
    # Tenure before the period is lognormal (median about 20 months); some join during it.
    before = -np.minimum(np.ceil(rng.lognormal(np.log(600), 0.9, n)), 3650).astype(np.int64)
    during = rng.integers(0, max(days - 1, 1), n)
    signup_day = np.where(rng.random(n) < new_share, during, before)
    seg_rate = np.array([s.rate_mult for s in profile.segments])[segment]
    tier_rate = np.array(TIER_RATE_MULT)[tier]
    engagement = rng.gamma(1.6, 1 / 1.6, n) * seg_rate * tier_rate
    seg_spend = np.array([s.spend_shift for s in profile.segments])[segment]
    spend_shift = seg_spend + np.array(TIER_SPEND_SHIFT)[tier] + rng.normal(0, 0.4, n)
    satisfaction = rng.normal(0, 1, n) + 0.25 * (tier == 0)
    chinese = rng.random(n) < 0.85
    min_age = np.array([s.min_age for s in profile.segments])[segment]
    max_age = np.array([s.max_age for s in profile.segments])[segment]
    age_days = (min_age + rng.random(n) * (max_age - min_age)) * 365.25
    birth = start - age_days.astype(np.int64).astype("timedelta64[D]")
    name, email = _names_and_emails(rng, chinese)
    phone = _MOBILE_PREFIX[rng.integers(0, len(_MOBILE_PREFIX), n)] * 100_000_000
    phone += rng.integers(0, 100_000_000, n)
    pii = {
        "name": name,
        "phone": _phone_text(phone),
        "email": email,
        "id_number": _id_numbers(rng, region, birth),
    }
    return Population(
        index, segment, tier, region, signup_day, engagement, spend_shift, satisfaction, chinese,
        pii,
    )  # fmt: skip
