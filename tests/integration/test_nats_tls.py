"""TLS-ready: the spine's connect helper reaches a nats-server that requires TLS and client certificates.

The server runs the tls block the deploy configs carry commented out (cert, key, CA, ``verify``);
the client sets only NATS_CA_FILE, NATS_CERT_FILE and NATS_KEY_FILE. Without its certificate
the same client is refused.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from nats.errors import NoServersError

from mentornet_spine.natsconnect import connect
from mentornet_spine.natsserver import NatsServer
from mentornet_spine.settings import SpineSettings


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(
    directory: Path,
    stem: str,
    subject: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer[0].subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    certificate = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (directory / f"{stem}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificate, key


async def test_connect_helper_speaks_mutual_tls(tmp_path: Path) -> None:
    ca = _issue(tmp_path, "ca", "MentorNet test CA", None)
    _issue(tmp_path, "server", "nats", ca)
    _issue(tmp_path, "client", "registry", ca)
    config = tmp_path / "tls.conf"
    config.write_text(
        "tls {\n"
        f'  cert_file: "{tmp_path / "server.crt"}"\n'
        f'  key_file: "{tmp_path / "server.key"}"\n'
        f'  ca_file: "{tmp_path / "ca.crt"}"\n'
        "  verify: true\n"
        "  timeout: 2\n"
        "}\n"
    )
    server = NatsServer(store_dir=tmp_path / "js", config=config).start()
    try:
        settings = SpineSettings(
            nats_url=server.url,
            nats_ca_file=str(tmp_path / "ca.crt"),
            nats_cert_file=str(tmp_path / "client.crt"),
            nats_key_file=str(tmp_path / "client.key"),
        )
        nc = await connect(settings, connect_timeout=3, max_reconnect_attempts=0)
        try:
            assert nc.is_connected
            answer = await nc.jetstream().account_info()
            assert answer is not None
        finally:
            await nc.close()
        without_certificate = settings.model_copy(update={"nats_cert_file": None, "nats_key_file": None})
        # TLS 1.3: the handshake completes, then the server drops the connection without a certificate
        with pytest.raises((OSError, NoServersError)):
            await connect(
                without_certificate, connect_timeout=3, max_reconnect_attempts=0, allow_reconnect=False
            )
    finally:
        server.stop()
