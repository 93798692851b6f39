"""LAN mode for ``bin/run --lan``: HTTPS on the laptop's Wi-Fi address, certificate made here.

Browsers give the camera (``getUserMedia``) only to https pages and to localhost, so a
tablet kiosk on the venue's Wi-Fi needs https to reach the laptop. This module finds the
laptop's LAN IPv4 address (``lan_address``), makes once and then reuses a local
certificate authority and a server certificate for that address (``ensure_certificate``,
under the git-ignored ``var/lan-tls/``), and builds the Twisted endpoint string daphne
serves it with (``daphne_endpoint``: ``daphne -e ssl:…``, which needs ``twisted[tls]``).

Run as ``python -m boothsite.lan [--host IP] [--port PORT]`` (``bin/run --lan`` does), it
prints ``key=value`` lines for the shell: ``host``, ``url``, ``endpoint``, ``ca``,
``spki`` and ``new_ca``. Nothing here imports Django.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import ipaddress
import os
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_FOLDER = Path(__file__).resolve().parent.parent / "var" / "lan-tls"
CA_FILE = "boothsite-local-ca.crt"
CA_KEY_FILE = "ca.key"
CERT_FILE = "server.crt"
KEY_FILE = "server.key"
CA_DAYS = 3650
# Apple devices refuse server certificates valid for more than 825 days, even from a CA
# the user trusts; a shorter one is simply made again when it nears its end.
CERT_DAYS = 397
RENEW_BEFORE = dt.timedelta(days=30)
# Where a route lookup points (TEST-NET-3, RFC 5737). A UDP socket's connect() only asks
# the routing table which local address would be used: no packet is sent.
ROUTE_PROBES = ("203.0.113.1", "10.255.255.254", "172.31.255.254", "192.168.255.254")


class LanError(Exception):
    """LAN mode cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class LanCertificate:
    """The files daphne serves and a tablet trusts, for one address.

    ``ca`` is the local CA's certificate (PEM) to install on tablets, ``cert`` and ``key``
    the server's certificate and private key (PEM; the key is readable by its owner
    only). ``spki_sha256`` is the base64 SHA-256 of the server certificate's public key,
    what Chromium's ``--ignore-certificate-errors-spki-list`` takes. ``new_ca`` is true
    when this call made the CA (tablets must trust it again).
    """

    host: str
    ca: Path
    cert: Path
    key: Path
    spki_sha256: str
    new_ca: bool


def lan_address() -> str:
    """Return this machine's IPv4 address on its local network, e.g. ``"192.168.1.20"``.

    The address of the interface that routes outwards, else one the host name resolves
    to. Raises LanError when there is only the loopback address (no network).
    """
    for probe in ROUTE_PROBES:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.connect((probe, 9))
            except OSError:
                continue
            address = str(udp.getsockname()[0])
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":  # noqa: S104
            return address
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0])
        if not ipaddress.ip_address(address).is_loopback:
            return address
    msg = "No LAN address found: join the venue's Wi-Fi, or give the laptop's address with --host."
    raise LanError(msg)


def ensure_certificate(
    host: str, folder: Path = DEFAULT_FOLDER, *, now: dt.datetime | None = None
) -> LanCertificate:
    """Make (once) a local CA and a server certificate for ``host``; reuse them after.

    ``host`` is an IP address (v4 or v6). The server certificate names it, ``localhost``
    and ``127.0.0.1`` (subject alternative names) and is made again when missing, for
    another address, from another CA, or within 30 days of its end. The CA (EC P-256,
    ten years) is made again only when missing or near its end. Files are written to
    ``folder`` (created with mode 0700; keys 0600). Raises LanError for a ``host`` that
    is not an IP address.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        msg = f"LAN mode needs the laptop's IP address, not {host!r} (e.g. 192.168.1.20)."
        raise LanError(msg) from None
    now = now or dt.datetime.now(dt.UTC)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert, ca_key, new_ca = _ensure_ca(folder, now)
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    cert = _load_cert(cert_path) if key_path.exists() else None
    if cert is None or not _serves(cert, ca_cert, address, now):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_cert(key, ca_cert, ca_key, address, now)
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return LanCertificate(
        host=str(address),
        ca=folder / CA_FILE,
        cert=cert_path,
        key=key_path,
        spki_sha256=base64.b64encode(hashlib.sha256(spki).digest()).decode(),
        new_ca=new_ca,
    )


def daphne_endpoint(certificate: LanCertificate, port: int) -> str:
    """Return daphne's ``-e`` endpoint: TLS on ``port`` of the certificate's address only.

    For example ``ssl:port=8000:interface=192.168.1.20:privateKey=…:certKey=…``; colons
    and backslashes in paths and IPv6 addresses are escaped as Twisted's endpoint
    strings need.
    """
    return ":".join(
        [
            "ssl",
            f"port={port}",
            f"interface={_quote(certificate.host)}",
            f"privateKey={_quote(str(certificate.key))}",
            f"certKey={_quote(str(certificate.cert))}",
        ]
    )


def _quote(value: str) -> str:
    """Escape ``value`` for a Twisted endpoint string (as its ``quoteStringArgument``)."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


def site_url(host: str, port: int) -> str:
    """Return the https origin guests and kiosks use: ``https://192.168.1.20:8000``."""
    shown = f"[{host}]" if ":" in host else host
    return f"https://{shown}:{port}"


def _ensure_ca(
    folder: Path, now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    ca_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
    cert = _load_cert(ca_path)
    if cert is not None and key_path.exists() and cert.not_valid_after_utc - now > RENEW_BEFORE:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return cert, key, False
    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own per laptop, so a tablet that trusts two laptops tells them apart.
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Boothsite LAN mode"),
            x509.NameAttribute(
                NameOID.COMMON_NAME,
                f"Boothsite local CA {socket.gethostname()[:24]} {now:%Y-%m-%d}",
            ),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    ca_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key, True


def _server_cert(
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    now: dt.datetime,
) -> x509.Certificate:
    names: list[x509.GeneralName] = [
        x509.IPAddress(address),
        x509.DNSName("localhost"),
    ]
    loopback = ipaddress.ip_address("127.0.0.1")
    if address != loopback:
        names.append(x509.IPAddress(loopback))
    ca_public = ca_cert.public_key()
    if not isinstance(ca_public, ec.EllipticCurvePublicKey):
        msg = "The local CA's key is not an EC key."
        raise LanError(msg)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(address))]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(min(now + dt.timedelta(days=CERT_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _serves(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    now: dt.datetime,
) -> bool:
    """Whether ``cert`` is ``ca_cert``'s, names ``address`` and has a month or more left."""
    try:
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return (
        address in names.get_values_for_type(x509.IPAddress)
        and cert.not_valid_after_utc - now > RENEW_BEFORE
    )


def _load_cert(path: Path) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM, readable by its owner only."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare LAN mode and print ``key=value`` lines for ``bin/run``; return the exit code.

    Exit 0 with ``host``, ``url``, ``endpoint``, ``ca``, ``spki`` and ``new_ca`` lines,
    or 2 with the reason on stderr (no LAN address, a host that is not an IP address).
    """
    parser = argparse.ArgumentParser(prog="python -m boothsite.lan", description=__doc__)
    parser.add_argument("--host", help="The laptop's LAN address (default: found).")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    args = parser.parse_args(argv)
    try:
        certificate = ensure_certificate(args.host or lan_address(), args.folder)
    except LanError as exc:
        print(f"LAN mode: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    lines = {
        "host": certificate.host,
        "url": site_url(certificate.host, args.port),
        "endpoint": daphne_endpoint(certificate, args.port),
        "ca": str(certificate.ca),
        "spki": certificate.spki_sha256,
        "new_ca": "true" if certificate.new_ca else "false",
    }
    print("\n".join(f"{key}={value}" for key, value in lines.items()))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
