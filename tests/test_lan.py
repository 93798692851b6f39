"""boothsite.lan: the certificates LAN mode makes once and reuses, and daphne's endpoint.

A real TLS handshake (Python's ssl on a socket pair) checks that a client trusting only
the local CA accepts the server certificate for the LAN address. The kiosk over https
in Chromium is tests/browser/test_lan.py.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading

import pytest
from cryptography import x509

from boothsite import lan


def handshake(certificate: lan.LanCertificate, server_name: str) -> str:
    """Do a TLS handshake: a server with the certificate, a client trusting only the CA."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(certificate.cert, certificate.key)
    client_context = ssl.create_default_context(cafile=str(certificate.ca))
    left, right = socket.socketpair()
    errors: list[Exception] = []

    def serve() -> None:
        try:
            with server_context.wrap_socket(left, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(right, server_hostname=server_name) as tls:
            version = str(tls.version())
            tls.sendall(b"x")
    finally:
        thread.join(timeout=10)
    return version


def test_the_certificate_is_made_once_and_trusted_through_the_ca(tmp_path):
    first = lan.ensure_certificate("192.168.1.20", tmp_path)
    assert first.new_ca
    assert handshake(first, "192.168.1.20").startswith("TLSv1.")
    assert handshake(first, "localhost")
    for key in (first.key, tmp_path / lan.CA_KEY_FILE):
        assert key.stat().st_mode & 0o777 == 0o600
    files = {path: path.read_bytes() for path in (first.ca, first.cert, first.key)}
    again = lan.ensure_certificate("192.168.1.20", tmp_path)
    assert not again.new_ca
    assert again == lan.LanCertificate(**{**first.__dict__, "new_ca": False})
    assert {path: path.read_bytes() for path in files} == files


def test_another_address_gets_a_new_certificate_from_the_same_ca(tmp_path):
    first = lan.ensure_certificate("192.168.1.20", tmp_path)
    ca = first.ca.read_bytes()
    moved = lan.ensure_certificate("10.0.0.7", tmp_path)
    assert not moved.new_ca
    assert moved.ca.read_bytes() == ca
    assert moved.spki_sha256 != first.spki_sha256
    assert handshake(moved, "10.0.0.7")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(moved, "192.168.1.20")


def test_a_certificate_near_its_end_is_made_again(tmp_path):
    first = lan.ensure_certificate("192.168.1.20", tmp_path)
    end = x509.load_pem_x509_certificate(first.cert.read_bytes()).not_valid_after_utc
    later = lan.ensure_certificate("192.168.1.20", tmp_path, now=end - dt.timedelta(days=10))
    assert later.spki_sha256 != first.spki_sha256
    renewed = x509.load_pem_x509_certificate(later.cert.read_bytes())
    assert renewed.not_valid_after_utc > end


def test_only_an_ip_address_is_accepted(tmp_path):
    with pytest.raises(lan.LanError, match="IP address"):
        lan.ensure_certificate("laptop.local", tmp_path)


def test_the_endpoint_escapes_colons(tmp_path):
    folder = tmp_path / "with:colon"
    certificate = lan.ensure_certificate("::1", folder)
    endpoint = lan.daphne_endpoint(certificate, 8443)
    assert endpoint.startswith(r"ssl:port=8443:interface=\:\:1:privateKey=")
    assert r"with\:colon" in endpoint
    assert lan.site_url("::1", 8443) == "https://[::1]:8443"


def test_the_command_prints_what_bin_run_reads(tmp_path, capsys):
    assert lan.main(["--host", "192.168.1.20", "--port", "8443", "--folder", str(tmp_path)]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["host"] == "192.168.1.20"
    assert lines["url"] == "https://192.168.1.20:8443"
    assert lines["endpoint"].startswith("ssl:port=8443:interface=192.168.1.20:")
    assert lines["ca"] == str(tmp_path / lan.CA_FILE)
    assert lines["new_ca"] == "true"
    assert lan.main(["--host", "laptop.local", "--folder", str(tmp_path)]) == 2
    assert "IP address" in capsys.readouterr().err
