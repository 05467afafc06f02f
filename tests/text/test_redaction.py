"""No personal data survives redaction: phones, ID numbers, e-mails, customers' names."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from crew.text.evidence import evidence_sentence, snippet
from crew.text.redaction import Redactor, is_valid_id_number, redact, redactor_from_store

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _with_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def test_chinese_mobile_numbers_in_every_layout() -> None:
    for phone in (
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 13812345678",
        "+86-139-0000-1111",
        "008615912345678",
        "8618612345678",
    ):
        out = redact(f"请联系我{phone}谢谢")
        assert "[PHONE]" in out, phone
        assert not any(ch.isdigit() for ch in out), out


def test_other_phone_formats() -> None:
    for phone in ("+44 20 7946 0958", "(415) 555-0199", "415-555-0199", "010-65521234",
                  "(010) 6552 1234", "400-820-1234", "+1 415 555 0199"):  # fmt: skip
        out = redact(f"call {phone} now")
        assert out == "call [PHONE] now", (phone, out)


def test_id_numbers_with_a_valid_check_digit_are_ids() -> None:
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("110105194912310021") is False
    assert redact("身份证11010519491231002X已泄露") == "身份证[ID]已泄露"
    assert redact("id 11010519491231002x.") == "id [ID]."


def test_id_like_numbers_with_a_wrong_check_digit_are_still_masked() -> None:
    # a wrong check digit: not an ID, maybe a card or account number; never shown
    assert redact("no. 110105194912310021") == "no. [NUMBER]"
    assert redact("card 6222 0212 3456 7890 123") == "card [NUMBER]"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_valid_id_number_is_masked(first17: str) -> None:
    number = _with_check_digit(first17)
    out = redact(f"我的身份证号是{number}，请核实")
    assert number not in out
    assert "[ID]" in out


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_any_mobile_number_is_masked(second: str, rest: str) -> None:
    number = f"1{second}{rest}"
    out = redact(f"手机{number}")
    assert number not in out and out == "手机[PHONE]"


def test_emails() -> None:
    out = redact("write to li.na+bank@example.com.cn or A_B@mail.co")
    assert out == "write to [EMAIL] or [EMAIL]"


def test_customer_names_from_the_customers_table(db: duckdb.DuckDBPyConnection) -> None:
    db.execute(
        "INSERT INTO customers (customer_id, name) VALUES ('c1', '张伟'), ('c2', 'Anna Lee'), "
        "('c3', '欧阳娜娜'), ('c4', NULL)"
    )
    redactor = redactor_from_store(db)
    text = "我是张伟，我朋友欧阳娜娜也被骚扰了。Anna Lee and lee anna and Lee, Anna complained."
    out = redactor.redact(text)
    for name in ("张伟", "欧阳娜娜", "Anna Lee", "lee anna", "Lee, Anna"):
        assert name not in out
    assert out.count("[NAME]") == 5
    assert "张" not in out.replace("[NAME]", "")


def test_names_not_in_the_table_are_left_alone() -> None:
    redactor = Redactor.with_names(["王芳"])
    assert redactor.redact("张三说王芳的事") == "张三说[NAME]的事"


def test_evidence_and_snippets_carry_no_pii() -> None:
    redactor = Redactor.with_names(["李娜"])
    text = "我是李娜，手机13812345678，邮箱lina@qq.com，身份证11010519491231002X，我要销户！"
    sentence = evidence_sentence("cancellation_intent", 3, 14, text=text, redactor=redactor)
    assert sentence.startswith(
        "3 complaints in 14 days mention cancelling (最近14天3次投诉提到销户)"
    )
    for secret in ("李娜", "13812345678", "lina@qq.com", "11010519491231002X"):
        assert secret not in sentence
    assert snippet(text, redactor).startswith("我是[NAME]，手机[PHONE]")
