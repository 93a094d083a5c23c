from chengguan.kit.redact import MASK, scrub


def test_phone_and_id_numbers_and_mail_are_masked_and_the_rest_kept() -> None:
    text = (
        "我是住在3号楼的居民，电话13912345678或139 1234 5678，+86-13912345678，座机010-62345678，"
        "身份证11010519900307123X，邮箱zhang.san@example.com，门牌号1203，垃圾堆了20260301起一周"
    )
    out = scrub(text)
    assert out.count(MASK) == 6
    for gone in ("13912345678", "1234 5678", "62345678", "11010519900307123X", "example.com"):
        assert gone not in out
    # numbers that are not personal stay: a flat number, a date
    assert "门牌号1203" in out and "20260301" in out and out.startswith("我是住在3号楼的居民")
