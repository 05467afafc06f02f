"""Free text of complaints, chats, tickets and reviews, in English and Chinese, by topic."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crew.types import Industry


class Topic(IntEnum):
    """What a text is about; the generators pick a topic, the catalog picks the words."""

    INQUIRY = 0
    BILLING = 1
    SERVICE_QUALITY = 2
    PRODUCT_QUALITY = 3
    SERVICE_FAILURE = 4
    PRIVACY = 5
    FRAUD_SECURITY = 6
    CANCELLATION = 7
    REGULATOR = 8
    REVIEW_POSITIVE = 9
    REVIEW_NEUTRAL = 10
    REVIEW_NEGATIVE = 11
    FAKE_POSITIVE = 12
    FAKE_NEGATIVE = 13


_Pair = tuple[tuple[str, ...], tuple[str, ...]]

_COMMON: dict[Topic, _Pair] = {
    Topic.INQUIRY: (
        (
            "How do I change my registered phone number?",
            "Question about my account settings.",
            "Please explain the fees on my last statement.",
            "Where can I see my order history?",
            "Need help resetting my password.",
            "Asking about the membership benefits.",
        ),
        (
            "请问怎么修改绑定的手机号？",
            "咨询账户设置的问题。",
            "想了解一下上期账单里的费用。",
            "在哪里可以查看历史订单？",
            "密码忘了，需要帮忙重置。",
            "咨询会员权益。",
        ),
    ),
    Topic.BILLING: (
        (
            "I was charged twice for the same order.",
            "The amount on my bill is wrong.",
            "Unexpected fee appeared on my account, please refund.",
            "Promised discount was not applied to my bill.",
            "Refund still not received after two weeks.",
            "Why was I billed after cancelling?",
        ),
        (
            "同一笔订单被重复扣款了。",
            "账单金额不对。",
            "账户里出现不明扣费，请退款。",
            "承诺的优惠没有生效。",
            "两周了退款还没到账。",
            "已经取消了为什么还在扣费？",
        ),
    ),
    Topic.SERVICE_QUALITY: (
        (
            "Customer service kept me waiting for an hour.",
            "The agent was rude and unhelpful.",
            "Nobody answers my tickets, very disappointed.",
            "I have explained this problem three times already.",
            "Your hotline transferred me five times.",
            "Service has become much worse lately.",
        ),
        (
            "客服让我等了一个小时。",
            "客服态度很差，没有解决问题。",
            "工单一直没人回复，非常失望。",
            "同一个问题我已经说了三遍了。",
            "热线电话被转接了五次。",
            "最近服务越来越差了。",
        ),
    ),
    Topic.PRIVACY: (
        (
            "Someone knew my personal details, how did my data leak?",
            "I am receiving spam calls that mention my account, my data was leaked.",
            "Please delete my personal information.",
            "Who accessed my records? I want an explanation.",
            "I withdraw my consent for marketing and data sharing.",
            "My ID number was exposed, this violates PIPL.",
        ),
        (
            "有人知道我的个人信息，我的数据是怎么泄露的？",
            "接到提到我账户的骚扰电话，信息被泄露了。",
            "请删除我的个人信息。",
            "谁查看了我的资料？请给个说法。",
            "我撤回营销和数据共享的授权。",
            "我的身份证号被泄露了，这违反个人信息保护法。",
        ),
    ),
    Topic.FRAUD_SECURITY: (
        (
            "There are transactions on my account that I did not make.",
            "My account was logged in from an unknown device.",
            "I did not authorise this payment, please block my account.",
            "Someone changed my password, I think I was hacked.",
            "Unknown transfer out of my account last night.",
            "Please freeze my card, it was stolen.",
        ),
        (
            "账户里有不是我本人的交易。",
            "我的账户在陌生设备上登录了。",
            "这笔支付不是我授权的，请冻结账户。",
            "有人改了我的密码，账号被盗了。",
            "昨晚账户里有一笔不明转出。",
            "卡被盗了，请立即冻结。",
        ),
    ),
    Topic.CANCELLATION: (
        (
            "I want to close my account.",
            "Please cancel my membership, I am leaving.",
            "Thinking about switching to another provider.",
            "How do I cancel? I no longer need the service.",
            "Your competitor offers a better deal, I will move.",
            "Cancel everything please.",
        ),
        (
            "我要注销账户。",
            "请取消我的会员，我不用了。",
            "在考虑换到别家。",
            "怎么销户？不需要这个服务了。",
            "别家的条件更好，我准备转走。",
            "请把所有业务都取消。",
        ),
    ),
    Topic.REGULATOR: (
        (
            "If this is not fixed I will report you to the regulator.",
            "I have filed a complaint with the consumer protection authority.",
            "Third complaint without result, escalating to 12315.",
            "I will contact the regulator and the media.",
            "Formal complaint: your handling breaks consumer protection rules.",
            "Last warning before I go to the authorities.",
        ),
        (
            "再不解决我就向监管部门投诉。",
            "我已经向消费者协会投诉了。",
            "第三次投诉还没结果，我要打12315。",
            "我会联系监管机构和媒体。",
            "正式投诉：你们的处理方式违反消费者权益保护规定。",
            "最后一次警告，否则我去找主管部门。",
        ),
    ),
    Topic.REVIEW_POSITIVE: (
        (
            "Great quality, fast delivery.",
            "Exactly as described, very happy.",
            "Good value for money, will buy again.",
            "Excellent, my family loves it.",
            "Arrived quickly and well packed.",
            "Five stars, recommended.",
        ),
        (
            "质量很好，发货很快。",
            "和描述一致，很满意。",
            "性价比高，会回购。",
            "非常好，家人都喜欢。",
            "到货快，包装很好。",
            "五星好评，推荐。",
        ),
    ),
    Topic.REVIEW_NEUTRAL: (
        (
            "It is okay for the price.",
            "Average quality, delivery was slow.",
            "Not bad, not great.",
            "Works, but the colour is different from the photo.",
        ),
        (
            "一般般，对得起价格。",
            "质量一般，物流有点慢。",
            "还行吧。",
            "能用，但颜色和图片不一样。",
        ),
    ),
    Topic.REVIEW_NEGATIVE: (
        (
            "Poor quality, broke after a week.",
            "Not as described, very disappointed.",
            "Terrible, asking for a refund.",
            "Arrived damaged and support ignored me.",
            "Fake product, do not buy.",
        ),
        (
            "质量很差，一周就坏了。",
            "与描述不符，很失望。",
            "太差了，要求退款。",
            "到货就是坏的，客服不理人。",
            "假货，别买。",
        ),
    ),
    Topic.FAKE_POSITIVE: (
        (
            "Amazing product!!! Best purchase ever, highly recommend to everyone",
            "Perfect quality, super fast shipping, 5 stars, will buy again",
            "Excellent seller, excellent product, excellent price, recommend",
        ),
        (
            "好评！质量非常好，物流超快，五星推荐给大家",
            "宝贝收到了，非常满意，性价比超高，强烈推荐",
            "卖家服务好，东西好，价格好，推荐购买",
        ),
    ),
    Topic.FAKE_NEGATIVE: (
        (
            "Worst product ever, total scam, do not buy from this shop",
            "Terrible quality and fake item, avoid this seller",
        ),
        ("垃圾产品，骗子店铺，千万别买", "质量极差，假货，大家避雷这家店"),
    ),
}

_SERVICE_FAILURE: dict[Industry, _Pair] = {
    Industry.ECOMMERCE: (
        (
            "My parcel was marked delivered but never arrived.",
            "Order lost in delivery.",
            "Courier failed to deliver three times.",
            "Delivery is two weeks late.",
        ),
        (
            "快递显示已签收但我没收到。",
            "订单在配送中丢了。",
            "快递三次都没送到。",
            "发货延迟两周了。",
        ),
    ),
    Industry.FINANCE: (
        (
            "My transfer failed but the money left my account.",
            "App outage, could not pay bills.",
            "Card was declined everywhere for two days.",
            "Loan disbursement delayed without notice.",
        ),
        (
            "转账失败了但钱已经扣了。",
            "APP宕机，无法缴费。",
            "银行卡两天刷不了。",
            "贷款放款延迟也没有通知。",
        ),
    ),
    Industry.TELECOM: (
        (
            "No network signal for three days.",
            "Mobile data outage in my area.",
            "Broadband keeps disconnecting.",
            "Calls drop all the time since the outage.",
        ),
        (
            "连续三天没有信号。",
            "我所在区域移动数据中断。",
            "宽带一直掉线。",
            "自从故障以后电话总是断。",
        ),
    ),
    Industry.HEALTHCARE: (
        (
            "My appointment was cancelled without notice.",
            "Wrong test results were sent to me.",
            "Waited four hours and the doctor never came.",
            "Prescription was filled incorrectly.",
        ),
        (
            "预约被无故取消了。",
            "发给我的检查报告是错的。",
            "等了四个小时医生都没来。",
            "药开错了。",
        ),
    ),
}

_PRODUCT_QUALITY: dict[Industry, _Pair] = {
    Industry.ECOMMERCE: (
        (
            "The item arrived broken.",
            "Product quality is far below the description.",
            "Received a counterfeit item.",
            "Wrong size and colour were shipped.",
        ),
        ("收到的商品是坏的。", "质量和描述差太多。", "收到的是假货。", "发错了尺码和颜色。"),
    ),
    Industry.FINANCE: (
        (
            "The wealth product lost money, it was sold as low risk.",
            "Interest rate is not what was promised.",
            "Hidden terms in the insurance product.",
        ),
        ("理财产品亏了，当初说是低风险。", "利率和承诺的不一样。", "保险产品有隐藏条款。"),
    ),
    Industry.TELECOM: (
        (
            "Data speed is much slower than the plan promises.",
            "The new phone keeps restarting.",
            "Roaming package did not work abroad.",
        ),
        ("网速远低于套餐承诺。", "新手机老是重启。", "出国漫游套餐用不了。"),
    ),
    Industry.HEALTHCARE: (
        (
            "The treatment did not help and nobody followed up.",
            "I believe the diagnosis was wrong.",
            "Side effects were never explained to me.",
        ),
        ("治疗没效果也没人随访。", "我认为诊断有误。", "副作用从来没人跟我说明。"),
    ),
}


@dataclass(frozen=True)
class TextCatalog:
    """All texts of one industry in one array, addressed by (topic, language, variant)."""

    texts: pa.Array
    offset: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]

    def render(
        self,
        topic: npt.NDArray[np.int16],
        chinese: npt.NDArray[np.bool_],
        variant: npt.NDArray[np.int64],
    ) -> pa.Array:
        """Text of each row; topic -1 gives null."""
        safe = np.maximum(topic, 0)
        lang = chinese.astype(np.int64)
        index = self.offset[safe, lang] + variant % self.count[safe, lang]
        return self.texts.take(pa.array(index, mask=topic < 0))


def text_catalog(industry: Industry) -> TextCatalog:
    """The text catalog of `industry` (generic speaks like e-commerce).

    >>> cat = text_catalog(Industry.TELECOM)
    >>> t = cat.render(np.array([4], np.int16), np.array([False]), np.array([0]))
    >>> t[0].as_py()
    'No network signal for three days.'
    """
    key = Industry.ECOMMERCE if industry == Industry.GENERIC else industry
    topics = dict(_COMMON)
    topics[Topic.SERVICE_FAILURE] = _SERVICE_FAILURE[key]
    topics[Topic.PRODUCT_QUALITY] = _PRODUCT_QUALITY[key]
    flat: list[str] = []
    offset = np.zeros((len(Topic), 2), dtype=np.int64)
    count = np.zeros((len(Topic), 2), dtype=np.int64)
    for topic in Topic:
        for lang, texts in enumerate(topics[topic]):
            offset[topic, lang] = len(flat)
            count[topic, lang] = len(texts)
            flat.extend(texts)
    return TextCatalog(pa.array(flat, pa.string()), offset, count)
