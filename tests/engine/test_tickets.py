from datetime import datetime, timezone

import pytest

from engine.desk.tickets import missing_fields, parse_time

COMPLETE = {
    "reporter_name": "王工", "organisation": "医院", "description": "d", "phone": "1",
    "occurred_at": "2026-11-23T08:00:00+08:00",
}  # fmt: skip


def test_a_complete_record_is_qualified():
    assert missing_fields(COMPLETE) == []


@pytest.mark.parametrize("drop,expected", [
    (("reporter_name",), ["reporter_name"]),
    (("phone",), ["phone"]),
    (("organisation", "occurred_at"), ["organisation", "occurred_at"]),
])  # fmt: skip
def test_missing_record_fields(drop, expected):
    data = {k: v for k, v in COMPLETE.items() if k not in drop}
    assert missing_fields(data) == expected


def test_email_is_enough_contact():
    data = dict(COMPLETE, phone="", email="a@b.cn")
    assert missing_fields(data) == []


def test_hardware_needs_device_model_and_serial():
    assert missing_fields(dict(COMPLETE, category="server")) == ["device_model", "device_serial"]
    assert missing_fields(dict(COMPLETE, category="application")) == []


def test_parse_time_reads_iso_and_local_naive_times():
    assert parse_time("2026-11-23T08:00:00+08:00") == datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert parse_time("2026-11-23T08:00:00") == datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert parse_time("2026-11-23T00:00:00Z") == datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    assert parse_time("yesterday") is None and parse_time(None) is None
