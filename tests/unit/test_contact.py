"""app.contact: phones in E.164 (Indonesian unless a country code is given), emails normalised."""

from __future__ import annotations

import pytest

from app import contact

E164 = "+6281234567890"


@pytest.mark.parametrize("raw", ["081234567890", "0812 3456 7890", "0812-3456-7890", "+62 812 3456 7890",
                                 "+62 812-3456-7890", "6281234567890", "62 812 3456 7890", "+6281234567890",
                                 " (0812) 3456.7890 "])
def test_every_spelling_of_an_indonesian_number_is_one_e164_number(raw):
    assert contact.normalize_phone(raw) == E164


def test_numbers_with_another_country_code_keep_it():
    assert contact.normalize_phone("+65 6123 4567") == "+6561234567"


@pytest.mark.parametrize("raw", ["call me", "12345", "0812", "08123456789012345678", "+62 000 0000 0000",
                                 "0" * 31, "081234567890x9999999999999999999"])
def test_invalid_numbers_are_refused_with_a_translated_message(app, raw):
    with pytest.raises(contact.ContactError) as caught:
        contact.normalize_phone(raw)
    with app.test_request_context(headers={"Accept-Language": "id"}):
        assert "0812 3456 7890" in str(caught.value.message)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_blank_contacts_are_none(raw):
    assert contact.normalize_phone(raw) is None and contact.normalize_email(raw) is None


@pytest.mark.parametrize("raw, expected", [
    ("Siti.Rahmah@Contoh.ID", "siti.rahmah@contoh.id"), ("  warga@contoh.id ", "warga@contoh.id"),
    ("warga@CONTOH.id", "warga@contoh.id")])
def test_emails_are_normalised_in_lower_case(raw, expected):
    assert contact.normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["not-an-email", "warga@", "@contoh.id", "warga@contoh", "a b@contoh.id",
                                 "x" * 250 + "@contoh.id"])
def test_invalid_emails_are_refused(raw):
    with pytest.raises(contact.ContactError):
        contact.normalize_email(raw)


def test_stored_values_that_do_not_parse_are_left_as_they_are():
    assert contact.phone_or_same("0812-3456-7890") == E164
    assert contact.phone_or_same("hubungi RT 05") == "hubungi RT 05"
    assert contact.email_or_same("Warga@Contoh.id") == "warga@contoh.id"
    assert contact.email_or_same("bukan email") == "bukan email"
    assert contact.phone_or_same(None) is None and contact.email_or_same(None) is None


def test_clean_contacts_reports_each_bad_field():
    assert contact.clean_contacts("Warga@Contoh.id", "0812 3456 7890") == ("warga@contoh.id", E164, {})
    _email, _phone, errors = contact.clean_contacts("x@", "call me")
    assert set(errors) == {"reporter_email", "reporter_phone"}
