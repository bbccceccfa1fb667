import pytest

from engine.errors import Invalid
from engine.runtime.forms import FieldDef, validate

FIELDS = [
    FieldDef(id="title", label="标题", type="string", required=True, maxlength=10),
    FieldDef(id="count", label="数量", type="long", min=1, max=5),
    FieldDef(id="ok", label="确认", type="boolean"),
    FieldDef(id="kind", label="类型", type="enum", required=True, options=(("a", "甲"), ("b", "乙"))),
    FieldDef(id="when", label="时间", type="date"),
    FieldDef(id="code", label="编号", type="string", pattern=r"^[A-Z]{2}\d+$"),
    FieldDef(id="fixed", label="只读", type="string", readonly=True),
]


def test_typed_values(db_session):
    values = validate(db_session, FIELDS, {
        "title": "t", "count": "3", "ok": "true", "kind": "a", "when": "2026-11-23T08:00",
        "code": "AB12", "fixed": "ignored", "unknown": "dropped",
    })  # fmt: skip
    assert values == {"title": "t", "count": 3, "ok": True, "kind": "a",
                      "when": "2026-11-23T00:00:00+00:00", "code": "AB12"}


@pytest.mark.parametrize("data,field", [
    ({"kind": "a"}, "title"),
    ({"title": "x" * 11, "kind": "a"}, "title"),
    ({"title": "t", "kind": "c"}, "kind"),
    ({"title": "t", "kind": "a", "count": 9}, "count"),
    ({"title": "t", "kind": "a", "count": "lots"}, "count"),
    ({"title": "t", "kind": "a", "when": "soon"}, "when"),
    ({"title": "t", "kind": "a", "code": "12"}, "code"),
    ({"title": "  ", "kind": "a"}, "title"),
])  # fmt: skip
def test_field_errors(db_session, data, field):
    with pytest.raises(Invalid) as err:
        validate(db_session, FIELDS, data)
    assert field in err.value.fields


def test_user_picker_checks_the_role(db_session):
    fields = [FieldDef(id="engineer", label="工程师", type="string", widget="user", role="engineer")]
    assert validate(db_session, fields, {"engineer": "eng1"}) == {"engineer": "eng1"}
    with pytest.raises(Invalid) as err:
        validate(db_session, fields, {"engineer": "agent1"})
    assert "运维工程师" in err.value.fields["engineer"][0]


def test_a_catastrophic_pattern_is_matched_in_linear_time(db_session):
    """``^(a+)+$`` backtracks for ages in Python's ``re``; RE2 answers at once."""
    import time

    fields_ = [FieldDef(id="code", label="编号", type="string", pattern=r"^(a+)+$")]
    started = time.monotonic()
    with pytest.raises(Invalid) as err:
        validate(db_session, fields_, {"code": "a" * 50 + "!"})
    assert time.monotonic() - started < 1 and "code" in err.value.fields
    assert validate(db_session, fields_, {"code": "aaaa"}) == {"code": "aaaa"}
