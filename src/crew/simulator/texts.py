"""Free text of complaints, chats, tickets and reviews, in English and Chinese, by topic."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

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
            "hi, how can i update my email address",
            "Can you tell me when my next bill is due?",
            "Is it possible to change the delivery address on my order?",
            "what are the opening hours on sunday",
            "I'd like a copy of my last statement please.",
            "Do you have a student discount?",
            "How do I change my registered phone number?",
            "Question about my account settings.",
            "Please explain the fees on my last statement.",
            "Where can I see my order history?",
            "Need help resetting my password.",
            "Asking about the membership benefits.",
        ),
        (
            "你好，想问下积分怎么用？",
            "请问下个月账单什么时候出？",
            "能帮我查一下订单状态吗",
            "怎么开电子发票？",
            "想改一下收货地址",
            "请问app怎么解绑银行卡",
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
            "you took the payment twice this month, i want it back",
            "My bill went up by 20 and nobody told me why.",
            "Still waiting for my refund, its been 3 weeks!",
            "There's a service fee on my statment I never agreed to.",
            "Overcharged AGAIN. Check the amount please.",
            "The promo price wasnt applied, I paid full price.",
            "Why am I paying interest on a 0% plan?",
            "I was charged twice for the same order.",
            "The amount on my bill is wrong.",
            "Unexpected fee appeared on my account, please refund.",
            "Promised discount was not applied to my bill.",
            "Refund still not received after two weeks.",
            "Why was I billed after cancelling?",
        ),
        (
            "这个月被扣了两次钱，请退回一笔。",
            "账单怎么突然多了二十块，也没人通知。",
            "退款三周了还没到账！",
            "乱收费，我从来没开通过这个服务。",
            "优惠券没用上，多付了钱",
            "refund一直没到，到底怎么回事？",
            "自动续费没提醒就扣款了",
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
            "waited on hold for 50 mins and then got cut off",
            "Your agent hung up on me when I asked for a manager.",
            "I've called 4 times and every time I have to explain it all again.",
            "Nobody replies to emails, is anyone there??",
            "The chatbot is useless, I need a real person.",
            "promised a call back twice, never happend",
            "Staff at the branch were rude and dismissive.",
            "Customer service kept me waiting for an hour.",
            "The agent was rude and unhelpful.",
            "Nobody answers my tickets, very disappointed.",
            "I have explained this problem three times already.",
            "Your hotline transferred me five times.",
            "Service has become much worse lately.",
        ),
        (
            "打客服电话等了半小时，最后还挂了。",
            "客服态度太差，问两句就不耐烦",
            "说好回电，两次都没打来。",
            "在线客服全是机器人，找不到人工",
            "同一个问题说了四遍了，没人管",
            "工单一直显示处理中，一周没人理",
            "你们的service太差了",
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
            "How did a marketing company get my number? Did you sell my data?",
            "i keep getting spam calls since i signed up, who did you share my details with",
            "Someone at your call centre gave my address to a stranger.",
            "I want a copy of all the personal data you hold on me.",
            "Stop using my data for ads, I did not consent to this.",
            "my personal info was leaked in your data breach and you said nothing",
            "Someone knew my personal details, how did my data leak?",
            "I am receiving spam calls that mention my account, my data was leaked.",
            "Please delete my personal information.",
            "Who accessed my records? I want an explanation.",
            "I withdraw my consent for marketing and data sharing.",
            "My ID number was exposed, this violates PIPL.",
        ),
        (
            "是不是你们把我的个人信息卖了？天天接推销电话。",
            "我要求删除我所有的个人资料",
            "客服怎么能把我的住址告诉别人？",
            "我没授权你们把数据给第三方",
            "注册以后骚扰短信不断，信息肯定泄露了",
            "我的personal data被泄露了，你们要负责",
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
            "theres a payment on my card i didnt make",
            "Got a code I never asked for and then money left my account.",
            "Someone logged into my account from another country.",
            "My card was skimmed, please block it right now!",
            "I think I was phished, a text that looked like you asked for my PIN.",
            "Unknown transfer of 2000 last night, I did not authorize it.",
            "There are transactions on my account that I did not make.",
            "My account was logged in from an unknown device.",
            "I did not authorise this payment, please block my account.",
            "Someone changed my password, I think I was hacked.",
            "Unknown transfer out of my account last night.",
            "Please freeze my card, it was stolen.",
        ),
        (
            "卡里有一笔不是我刷的消费",
            "收到验证码后钱就被转走了！",
            "账号在外地被登录了，赶紧帮我冻结",
            "有人冒充你们客服骗我转账",
            "信用卡被盗刷了三笔，请立即处理",
            "密码被改了，账号登不上去",
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
            "please close my acount, im moving to another bank",
            "I won't be renewing, the price hike was the last straw.",
            "How do I cancel my contract? I've found a cheaper deal.",
            "Cancel my subscription today, I'm done.",
            "Start porting my number out please, switching provider.",
            "After this I'm taking my business elsewhere.",
            "want to cancle everything, not using it anymore",
            "I want to close my account.",
            "Please cancel my membership, I am leaving.",
            "Thinking about switching to another provider.",
            "How do I cancel? I no longer need the service.",
            "Your competitor offers a better deal, I will move.",
            "Cancel everything please.",
        ),
        (
            "我要销户，钱转到别的银行。",
            "合约到期就换一家，不续了",
            "帮我注销账号，以后不用了",
            "别家便宜一半，准备携号转网",
            "会员到期不会再续费了。",
            "我要cancel我的账户",
            "取消所有订阅和自动续费",
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
            "fix this by friday or i'm going to the ombudsman",
            "I've already reported you to consumer protection.",
            "My lawyer will be in touch.",
            "I'll take this to the press if I don't get my money back.",
            "Filing a formal complaint with the banking regulator today.",
            "see you in small claims court",
            "If this is not fixed I will report you to the regulator.",
            "I have filed a complaint with the consumer protection authority.",
            "Third complaint without result, escalating to 12315.",
            "I will contact the regulator and the media.",
            "Formal complaint: your handling breaks consumer protection rules.",
            "Last warning before I go to the authorities.",
        ),
        (
            "再不解决我就去银保监会投诉",
            "已经打了12315了",
            "我会找律师起诉你们",
            "不处理就发微博曝光",
            "我要去消协讨个说法",
            "这事我会向监管部门反映的",
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
            "love it, fits perfectly",
            "Really nice quality for the price, thanks!",
            "Second time buying, still great.",
        ),
        (
            "质量很好，发货很快。",
            "和描述一致，很满意。",
            "性价比高，会回购。",
            "非常好，家人都喜欢。",
            "到货快，包装很好。",
            "五星好评，推荐。",
            "第二次买了，还是很好",
            "做工不错，物超所值",
            "客服态度很好，发货也快",
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
            "fell apart in a week, waste of money",
            "Colour is nothing like the photo, returning it.",
        ),
        (
            "质量很差，一周就坏了。",
            "与描述不符，很失望。",
            "太差了，要求退款。",
            "到货就是坏的，客服不理人。",
            "假货，别买。",
            "一周就散架了，浪费钱",
            "颜色和图片完全不一样，退了",
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
            "tracking hasnt moved in 8 days, where is my parcel",
            "Driver left the box in the rain and it got soaked.",
            "Paid for next day delivery, took a week.",
            "The courier says they delivered it. They didn't.",
        ),
        (
            "快递显示已签收但我没收到。",
            "物流一个星期没更新了",
            "说好次日达，第五天才送到",
            "快递员没打电话就放驿站了",
            "包裹丢了，快递和商家互相推",
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
            "stopped working after 3 days, cheap rubbish",
            "The zip broke the first time I used it.",
            "Screen has dead pixels out of the box.",
        ),
        (
            "收到的商品是坏的。",
            "质量和描述差太多。",
            "收到的是假货。",
            "发错了尺码和颜色。",
            "用了三天就坏了，质量太差",
            "衣服洗一次就缩水了",
            "开箱屏幕就有亮点",
        ),
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


# Openers and closers wrap a body so that the same complaint reads differently from one
# customer to the next; reviews and inquiries get milder ones. Index: [lang][group].
_OPENERS = (
    (
        ("", "", "", "Hi, ", "Hello, ", "Hi there - ", "Again: ", "URGENT: ", "Dear team, "),
        ("", "", "", "Hi, ", "Hello, ", "Quick question - "),
        ("", "", "", "", "Update: "),
    ),
    (
        ("", "", "", "你好，", "客服你好，", "再说一次，", "紧急！", "您好，"),
        ("", "", "", "你好，", "您好，", "打扰一下，"),
        ("", "", "", "", "追评："),
    ),
)
_CLOSERS = (
    (
        ("", "", "", " Please fix this.", " Very disappointed.", " Sort it out!",
         " This is the third time.", " Not acceptable.", " Thanks."),
        ("", "", "", " Thanks.", " Thank you!", " Cheers"),
        ("", "", "", "", " Recommended.", " 👍"),
    ),
    (
        ("", "", "", "请尽快处理。", "太失望了。", "给个说法！", "已经第三次了。", "谢谢。"),
        ("", "", "", "谢谢。", "谢谢！", "麻烦了"),
        ("", "", "", "", "！", "👍"),
    ),
)  # fmt: skip
_COMPLAINT, _POLITE, _REVIEW = 0, 1, 2
_GROUP = np.array(
    [_POLITE, *[_COMPLAINT] * 8, _REVIEW, _REVIEW, _REVIEW, _REVIEW, _REVIEW], dtype=np.int64
)
_FAKE = (12, 13)
_LOWER_SHARE = 0.15


def _mix(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """A well-spread 64-bit hash of two integer arrays (splitmix64), without an RNG draw."""
    with np.errstate(over="ignore"):
        z = a.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + b.astype(np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


@dataclass(frozen=True)
class TextCatalog:
    """All texts of one industry in one array, addressed by (topic, language, variant)."""

    texts: pa.Array
    offset: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]

    @property
    def both(self) -> pa.Array:
        """The texts, then the same texts lower-cased."""
        return pa.concat_arrays([self.texts, pc.utf8_lower(self.texts)])

    def render(
        self,
        topic: npt.NDArray[np.int16],
        chinese: npt.NDArray[np.bool_],
        variant: npt.NDArray[np.int64],
        row: npt.NDArray[np.int64] | None = None,
    ) -> pa.Array:
        """Text of each row; topic -1 gives null.

        With `row` (a per-row number), a body is picked by a hash of (variant, row) and
        wrapped in an opener and a closer, and some English texts are lower-cased, so the
        same complaint reads differently; fake reviews keep their ring's text verbatim.
        """
        safe = np.maximum(topic, 0).astype(np.int64)
        lang = chinese.astype(np.int64)
        fake = np.isin(safe, _FAKE)
        if row is None:
            index = self.offset[safe, lang] + variant % self.count[safe, lang]
            return self.texts.take(pa.array(index, mask=topic < 0))
        h = _mix(variant, row)
        # Lower-cased rows read from the lower-cased half of each bank (cheaper than
        # lower-casing millions of rendered strings).
        lower = (~fake) & (lang == 0) & ((h >> np.uint64(40)) % np.uint64(100) < 100 * _LOWER_SHARE)
        pick = np.where(fake, variant, (h % np.uint64(1 << 20)).astype(np.int64))
        index = self.offset[safe, lang] + pick % self.count[safe, lang] + lower * len(self.texts)
        body = self.both.take(pa.array(index, mask=topic < 0))
        group = _GROUP[safe]
        parts = []
        for bank, shift in ((_OPENER_BANK, 20), (_CLOSER_BANK, 30)):
            k = ((h >> np.uint64(shift)) % np.uint64(1 << 10)).astype(np.int64)
            chosen = bank.starts[lang, group] + k % bank.sizes[lang, group]
            chosen = np.where(fake, 0, chosen + lower * bank.half)
            parts.append(bank.texts.take(pa.array(chosen)))
        return pc.binary_join_element_wise(parts[0], body, parts[1], "")


@dataclass(frozen=True)
class _Bank:
    """Openers or closers, flattened: "" first, then by (language, group), then lower-cased."""

    texts: pa.Array
    starts: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    half: int


def _bank(nested: tuple[tuple[tuple[str, ...], ...], ...]) -> _Bank:
    flat = [""] + [t for by_lang in nested for by_group in by_lang for t in by_group]
    sizes = np.array([[len(g) for g in by_lang] for by_lang in nested], dtype=np.int64)
    starts = 1 + np.concatenate([[0], np.cumsum(sizes.ravel())[:-1]]).reshape(sizes.shape)
    return _Bank(pa.array(flat + [t.lower() for t in flat], pa.string()), starts, sizes, len(flat))


_OPENER_BANK = _bank(_OPENERS)
_CLOSER_BANK = _bank(_CLOSERS)


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
