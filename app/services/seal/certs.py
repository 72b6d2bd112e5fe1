"""Seal certificates: a provincial root CA and one seal certificate per issuing unit.

Files live in ``SEAL_KEY_DIR`` (``var/keys/`` by default, never committed):

* ``root-ca.cert.pem`` — the trust root (``SEAL_ROOT_CERT`` may name another file);
* ``seal-<unit code>.cert.pem`` / ``seal-<unit code>.key.pem`` — a unit's seal (key 0600).

``flask seal init`` (called by ``flask init-db``) makes a demo root (``root-ca.key.pem``, 0600)
and the seals of every unit the ``window`` lane routes to, leaving existing files alone.  In
production the province's CA issues the seals and only the files are put in place.
ECDSA P-256; a seal certificate has KeyUsage digitalSignature + nonRepudiation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ...keyfiles import private_pem, write_private

ROOT_NAME = "海南省工程建设审批电子印章根证书（演示）"
PROVINCE_ORG = "海南省工程建设项目审批管理系统"


class SealMissing(RuntimeError):
    """A seal file the platform needs is not there: the message names it and how to make it."""


@dataclass
class Paths:
    """Where the seal files of a settings object are."""

    folder: Path
    root_cert: Path

    @classmethod
    def of(cls, settings) -> Paths:
        folder = Path(settings.SEAL_KEY_DIR)
        return cls(folder, Path(settings.SEAL_ROOT_CERT) if settings.SEAL_ROOT_CERT else folder / "root-ca.cert.pem")

    @property
    def root_key(self) -> Path:
        return self.folder / "root-ca.key.pem"

    def seal_cert(self, unit_code: str) -> Path:
        return self.folder / f"seal-{unit_code}.cert.pem"

    def seal_key(self, unit_code: str) -> Path:
        return self.folder / f"seal-{unit_code}.key.pem"


def _clip(text: str, limit: int = 64) -> str:
    """At most ``limit`` UTF-8 bytes (X.520 upper bound of a name attribute)."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _name(common: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "海南省"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, _clip(org)),
                      x509.NameAttribute(NameOID.COMMON_NAME, _clip(common))])


def _root(paths: Paths, now: dt.datetime):
    if paths.root_cert.exists() and paths.root_key.exists():
        return (x509.load_pem_x509_certificate(paths.root_cert.read_bytes()),
                serialization.load_pem_private_key(paths.root_key.read_bytes(), password=None))
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(ROOT_NAME, PROVINCE_ORG)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    write_private(paths.root_key, private_pem(key))
    paths.root_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def issue_seal(paths: Paths, unit_code: str, unit_name: str, now: dt.datetime | None = None) -> bool:
    """Make a unit's demo seal certificate under the demo root; False if it already exists."""
    if paths.seal_cert(unit_code).exists() and paths.seal_key(unit_code).exists():
        return False
    now = now or dt.datetime.now(dt.UTC)
    root_cert, root_key = _root(paths, now)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(f"{unit_name}审批专用章", unit_name))
            .issuer_name(root_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    write_private(paths.seal_key(unit_code), private_pem(key))
    paths.seal_cert(unit_code).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


def root_certificate(settings) -> x509.Certificate:
    """The trust root, or ``SealMissing`` naming the file."""
    path = Paths.of(settings).root_cert
    if not path.exists():
        raise SealMissing(f"the seal trust root {path} is missing: run `flask seal init` (demo) or put the "
                          f"province CA's certificate there (HN_SEAL_ROOT_CERT)")
    return x509.load_pem_x509_certificate(path.read_bytes())


def seal_files(settings, unit_code: str) -> tuple[Path, Path]:
    """A unit's (key, certificate) files, or ``SealMissing`` naming what is absent."""
    paths = Paths.of(settings)
    key, cert = paths.seal_key(unit_code), paths.seal_cert(unit_code)
    missing = [str(p) for p in (key, cert) if not p.exists()]
    if missing:
        raise SealMissing(f"the seal of unit {unit_code} is missing ({', '.join(missing)}): run `flask seal init` "
                          f"(demo) or install the unit's seal certificate and key in {paths.folder}")
    return key, cert


def issuing_units(session) -> list[tuple[str, str]]:
    """(code, name) of every unit the ``window`` lane routes to: the units that issue results."""
    from sqlalchemy import select

    from ...models import RouteEntry, Unit
    rows = session.execute(select(Unit.code, Unit.name).join(RouteEntry, RouteEntry.unit_id == Unit.id)
                           .where(RouteEntry.role == "window").distinct().order_by(Unit.code)).all()
    return [(code, name) for code, name in rows]


def init_demo(session, settings) -> dict[str, int]:
    """The demo root and a seal per issuing unit (existing files are kept); counts made and kept."""
    paths = Paths.of(settings)
    made = kept = 0
    for code, name in issuing_units(session):
        if issue_seal(paths, code, name):
            made += 1
        else:
            kept += 1
    return {"made": made, "kept": kept}
