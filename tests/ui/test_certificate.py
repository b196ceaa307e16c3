"""The form's reading of a CA file (subject, expiry) against cryptography's reading of the
same certificates: the test CA openssl made, and certificates made here with what the
reader must handle (DER, no common name, expired, years past 2049, more than one)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from supalink.ui.certificate import NOT_A_CERTIFICATE, CertificateInfo, read_certificate
from tests.support.postgres import PostgresServer

UTC = datetime.UTC
NOW = datetime.datetime.now(UTC).replace(microsecond=0)


def certificate(
    names: list[tuple[x509.ObjectIdentifier, str]],
    not_after: datetime.datetime,
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in names])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - datetime.timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


def written(folder: Path, name: str, *certificates: x509.Certificate, der: bool = False) -> str:
    encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
    path = folder / name
    path.write_bytes(b"".join(c.public_bytes(encoding) for c in certificates))
    return str(path)


def read(path: str) -> CertificateInfo:
    info = read_certificate(path)
    assert isinstance(info, CertificateInfo), info
    return info


def test_the_test_ca_reads_as_cryptography_reads_it(pg: PostgresServer) -> None:
    reference = x509.load_pem_x509_certificate(pg.ca_cert.read_bytes())
    info = read(str(pg.ca_cert))
    [common_name] = reference.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert info.subject == common_name.value == "Supalink Test CA"
    assert info.expires == reference.not_valid_after_utc
    assert not info.expired
    assert info.describe() == f"Supalink Test CA — valid until {info.expires:%Y-%m-%d}"


@pytest.mark.parametrize("der", [False, True], ids=["PEM", "DER"])
def test_the_first_of_the_files_certificates_is_read(tmp_path: Path, der: bool) -> None:
    first = certificate([(NameOID.COMMON_NAME, "First CA ✓")], NOW + datetime.timedelta(days=30))
    second = certificate([(NameOID.COMMON_NAME, "Second CA")], NOW + datetime.timedelta(days=90))
    info = read(written(tmp_path, "ca.crt", first, *([] if der else [second]), der=der))
    assert info.subject == "First CA ✓"
    assert info.expires == first.not_valid_after_utc == NOW + datetime.timedelta(days=30)


def test_an_expired_certificate_says_so(tmp_path: Path) -> None:
    old = certificate([(NameOID.COMMON_NAME, "Old CA")], NOW - datetime.timedelta(days=1))
    info = read(written(tmp_path, "old.crt", old))
    assert info.expired
    assert info.describe().startswith("Old CA — EXPIRED until ")


def test_a_year_past_2049_is_read_from_its_four_digits(tmp_path: Path) -> None:
    """RFC 5280: dates from 2050 are GeneralizedTime; before, UTCTime's two-digit years."""
    later = datetime.datetime(2061, 3, 4, 5, 6, 7, tzinfo=UTC)
    info = read(written(tmp_path, "long.crt", certificate([(NameOID.COMMON_NAME, "L")], later)))
    assert info.expires == later


def test_without_a_common_name_the_organization_then_the_unit_names_it(tmp_path: Path) -> None:
    later = NOW + datetime.timedelta(days=1)
    organization = certificate(
        [(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit"), (NameOID.ORGANIZATION_NAME, "Org Inc")],
        later,
    )
    unit = certificate([(NameOID.ORGANIZATIONAL_UNIT_NAME, "Unit")], later)
    nameless = certificate([(NameOID.COUNTRY_NAME, "NZ")], later)
    assert read(written(tmp_path, "o.crt", organization)).subject == "Org Inc"
    assert read(written(tmp_path, "ou.crt", unit)).subject == "Unit"
    assert read(written(tmp_path, "none.crt", nameless)).subject == "(no subject)"


@pytest.mark.parametrize(
    "contents",
    [
        b"",
        b"not a certificate at all\n",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n",  # no end
        b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        b"\x30\x82\xff\xff\x30",  # a length past the end
        b"\x30\x85\x01\x02\x03\x04\x05",  # a length of five bytes
    ],
    ids=["empty", "text", "no-end", "not-base64", "cut-short", "long-length"],
)
def test_what_is_no_certificate_says_so(tmp_path: Path, contents: bytes) -> None:
    path = tmp_path / "bad.crt"
    path.write_bytes(contents)
    assert read_certificate(str(path)) == NOT_A_CERTIFICATE


def test_a_certificate_cut_short_says_so(tmp_path: Path) -> None:
    whole = certificate([(NameOID.COMMON_NAME, "Cut")], NOW + datetime.timedelta(days=1))
    der = whole.public_bytes(serialization.Encoding.DER)
    for cut in (2, 40, len(der) // 2, len(der) - 1):
        path = tmp_path / f"cut-{cut}.der"
        path.write_bytes(der[:cut])
        assert read_certificate(str(path)) == NOT_A_CERTIFICATE, cut


def test_no_file_and_no_path_say_so(tmp_path: Path) -> None:
    assert read_certificate("") == "no CA file chosen"
    assert read_certificate(str(tmp_path / "missing.crt")) == f"no file at {tmp_path}/missing.crt"
