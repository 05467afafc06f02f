"""Industry profiles: segments, products, channels, rates and the mix of risk episodes."""

from __future__ import annotations

from dataclasses import dataclass

from crew.types import Industry, RiskType, TxnType


@dataclass(frozen=True)
class Segment:
    """A customer segment: its share and how it shifts activity and spend."""

    name: str
    share: float
    rate_mult: float
    spend_shift: float
    min_age: int = 18
    max_age: int = 70


@dataclass(frozen=True)
class Category:
    """A product category with the median log amount (CNY) of one transaction."""

    name: str
    share: float
    log_amount: float


@dataclass(frozen=True)
class TxnStream:
    """A Poisson stream of money movements of one type."""

    type: TxnType
    rate_per_day: float
    categories: tuple[Category, ...]
    channels: tuple[str, ...]
    channel_p: tuple[float, ...]
    refund_share: float = 0.0
    sigma: float = 0.55


@dataclass(frozen=True)
class IndustryProfile:
    """Everything industry-specific the generators need."""

    industry: Industry
    segments: tuple[Segment, ...]
    streams: tuple[TxnStream, ...]
    hour_weights: tuple[float, ...]
    episode_mix: tuple[tuple[RiskType, float], ...]
    reviews: bool
    login_rate_per_day: float
    ticket_rate_per_day: float
    call_rate_per_day: float
    chat_rate_per_day: float
    complaint_rate_per_day: float
    monthly_bill: Category | None = None

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Segment names in profile order."""
        return tuple(s.name for s in self.segments)


_APP_WEB = ("app", "web", "store")
_ECOM_HOURS = (
    2,
    1,
    0.6,
    0.4,
    0.3,
    0.4,
    1,
    2,
    3,
    4,
    5,
    5.5,
    5,
    4.5,
    4.5,
    4.5,
    4.5,
    5,
    5.5,
    6.5,
    8,
    9,
    8,
    5,
)
_OFFICE_HOURS = (
    0.4,
    0.3,
    0.2,
    0.2,
    0.2,
    0.4,
    1,
    3,
    6,
    8,
    8,
    7.5,
    6,
    7,
    7.5,
    7,
    6.5,
    5,
    4,
    3.5,
    3,
    2.5,
    1.5,
    1,
)
_EVENING_HOURS = (
    1.5,
    0.8,
    0.5,
    0.4,
    0.3,
    0.5,
    1.5,
    3,
    4,
    4.5,
    4.5,
    5,
    5.5,
    5,
    4.5,
    4.5,
    5,
    5.5,
    6,
    7,
    7.5,
    7,
    5,
    3,
)
_CLINIC_HOURS = (
    0.3,
    0.2,
    0.2,
    0.2,
    0.2,
    0.3,
    1,
    5,
    10,
    11,
    10,
    8,
    5,
    7,
    9,
    8.5,
    7,
    5,
    3,
    2,
    1.5,
    1,
    0.7,
    0.5,
)

_ECOMMERCE_SEGMENTS = (
    Segment("mass", 0.5, 1.0, 0.0),
    Segment("young_urban", 0.22, 1.35, -0.15, 18, 32),
    Segment("family", 0.2, 1.1, 0.2, 28, 55),
    Segment("business", 0.08, 0.8, 0.9, 25, 60),
)
_ECOMMERCE_PURCHASES = TxnStream(
    TxnType.PURCHASE,
    0.075,
    (
        Category("apparel", 0.24, 5.0),
        Category("electronics", 0.1, 6.6),
        Category("grocery", 0.22, 4.2),
        Category("beauty", 0.14, 5.1),
        Category("home", 0.13, 5.4),
        Category("books", 0.07, 3.9),
        Category("baby", 0.1, 5.2),
    ),
    _APP_WEB,
    (0.72, 0.23, 0.05),
    refund_share=0.06,
)
_ECOMMERCE_MIX = (
    (RiskType.CHURN, 0.46),
    (RiskType.SATISFACTION_DECLINE, 0.2),
    (RiskType.COMPLAINT_SURGE, 0.14),
    (RiskType.FRAUD, 0.13),
    (RiskType.DATA_LEAKAGE, 0.07),
)

PROFILES: dict[Industry, IndustryProfile] = {
    Industry.ECOMMERCE: IndustryProfile(
        Industry.ECOMMERCE,
        _ECOMMERCE_SEGMENTS,
        (_ECOMMERCE_PURCHASES,),
        _ECOM_HOURS,
        _ECOMMERCE_MIX,
        reviews=True,
        login_rate_per_day=0.45,
        ticket_rate_per_day=0.006,
        call_rate_per_day=0.003,
        chat_rate_per_day=0.009,
        complaint_rate_per_day=0.0012,
    ),
    Industry.GENERIC: IndustryProfile(
        Industry.GENERIC,
        _ECOMMERCE_SEGMENTS,
        (_ECOMMERCE_PURCHASES,),
        _ECOM_HOURS,
        _ECOMMERCE_MIX,
        reviews=False,
        login_rate_per_day=0.45,
        ticket_rate_per_day=0.006,
        call_rate_per_day=0.003,
        chat_rate_per_day=0.009,
        complaint_rate_per_day=0.0012,
    ),
    Industry.FINANCE: IndustryProfile(
        Industry.FINANCE,
        (
            Segment("retail", 0.62, 1.0, 0.0),
            Segment("affluent", 0.2, 1.2, 1.0, 28, 65),
            Segment("private", 0.04, 1.1, 2.2, 35, 75),
            Segment("smb", 0.14, 1.6, 1.2, 25, 62),
        ),
        (
            TxnStream(
                TxnType.DEPOSIT,
                0.03,
                (Category("savings", 0.7, 8.0), Category("wealth", 0.3, 9.0)),
                ("app", "web", "branch"),
                (0.7, 0.15, 0.15),
            ),
            TxnStream(
                TxnType.WITHDRAWAL,
                0.02,
                (Category("savings", 1.0, 7.3),),
                ("app", "branch", "web"),
                (0.6, 0.3, 0.1),
            ),
            TxnStream(
                TxnType.TRANSFER,
                0.03,
                (Category("savings", 0.8, 7.6), Category("loan", 0.2, 8.0)),
                ("app", "web", "branch"),
                (0.8, 0.15, 0.05),
            ),
            TxnStream(
                TxnType.PURCHASE,
                0.07,
                (Category("card", 1.0, 5.2),),
                ("app", "store", "web"),
                (0.5, 0.4, 0.1),
                refund_share=0.02,
            ),
        ),
        _OFFICE_HOURS,
        (
            (RiskType.CHURN, 0.38),
            (RiskType.SATISFACTION_DECLINE, 0.14),
            (RiskType.COMPLAINT_SURGE, 0.16),
            (RiskType.FRAUD, 0.22),
            (RiskType.DATA_LEAKAGE, 0.1),
        ),
        reviews=False,
        login_rate_per_day=0.5,
        ticket_rate_per_day=0.004,
        call_rate_per_day=0.005,
        chat_rate_per_day=0.005,
        complaint_rate_per_day=0.001,
    ),
    Industry.TELECOM: IndustryProfile(
        Industry.TELECOM,
        (
            Segment("prepaid", 0.35, 1.0, -0.4, 18, 45),
            Segment("postpaid", 0.45, 1.0, 0.2),
            Segment("family_plan", 0.12, 1.1, 0.6, 28, 60),
            Segment("enterprise", 0.08, 1.3, 0.9, 25, 60),
        ),
        (
            TxnStream(
                TxnType.DEPOSIT,
                0.035,
                (Category("top_up", 1.0, 4.1),),
                ("app", "web", "store"),
                (0.75, 0.15, 0.1),
            ),
            TxnStream(
                TxnType.PURCHASE,
                0.03,
                (
                    Category("data_pack", 0.7, 3.3),
                    Category("roaming", 0.2, 4.0),
                    Category("device", 0.1, 7.6),
                ),
                ("app", "store", "call_center"),
                (0.7, 0.2, 0.1),
                refund_share=0.03,
            ),
        ),
        _EVENING_HOURS,
        (
            (RiskType.CHURN, 0.42),
            (RiskType.SATISFACTION_DECLINE, 0.24),
            (RiskType.COMPLAINT_SURGE, 0.18),
            (RiskType.FRAUD, 0.08),
            (RiskType.DATA_LEAKAGE, 0.08),
        ),
        reviews=False,
        login_rate_per_day=0.3,
        ticket_rate_per_day=0.006,
        call_rate_per_day=0.006,
        chat_rate_per_day=0.006,
        complaint_rate_per_day=0.0015,
        monthly_bill=Category("monthly_plan", 1.0, 4.6),
    ),
    Industry.HEALTHCARE: IndustryProfile(
        Industry.HEALTHCARE,
        (
            Segment("outpatient", 0.55, 1.0, 0.0),
            Segment("chronic_care", 0.2, 2.2, 0.3, 40, 85),
            Segment("maternity", 0.1, 1.8, 0.4, 22, 40),
            Segment("vip_insured", 0.15, 1.2, 0.9, 30, 75),
        ),
        (
            TxnStream(
                TxnType.PURCHASE,
                0.03,
                (
                    Category("consultation", 0.38, 4.0),
                    Category("lab_test", 0.2, 5.3),
                    Category("pharmacy", 0.28, 5.0),
                    Category("imaging", 0.1, 6.2),
                    Category("inpatient", 0.04, 8.9),
                ),
                ("store", "app", "web"),
                (0.6, 0.35, 0.05),
                refund_share=0.03,
            ),
        ),
        _CLINIC_HOURS,
        (
            (RiskType.CHURN, 0.34),
            (RiskType.SATISFACTION_DECLINE, 0.24),
            (RiskType.COMPLAINT_SURGE, 0.16),
            (RiskType.FRAUD, 0.08),
            (RiskType.DATA_LEAKAGE, 0.18),
        ),
        reviews=False,
        login_rate_per_day=0.08,
        ticket_rate_per_day=0.004,
        call_rate_per_day=0.006,
        chat_rate_per_day=0.004,
        complaint_rate_per_day=0.0012,
    ),
}

TIERS = ("key", "important", "regular")
TIER_SHARES = (0.05, 0.2, 0.75)
TIER_RATE_MULT = (1.9, 1.35, 0.85)
TIER_SPEND_SHIFT = (0.8, 0.35, -0.1)


def profile_for(industry: Industry) -> IndustryProfile:
    """The profile of `industry`; `generic` is e-commerce without product reviews.

    >>> profile_for(Industry.GENERIC).reviews
    False
    """
    return PROFILES[industry]
