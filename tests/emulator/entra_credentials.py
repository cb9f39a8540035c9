# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials the tests own for the Entra ID stand-in's secret-free sign-ins: self-signed app certificates (as
`az ad sp credential reset --create-cert` makes them) and a workload identity issuer (as AKS's OIDC issuer) that
signs federated tokens."""

import datetime
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else \
        serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def public_key_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def certificate_pem(key, name="resolver-scim-provisioner", days=365, expired=False):
    """A self-signed certificate of ``key``; ``expired`` ends its validity an hour ago."""
    now = datetime.datetime.now(datetime.timezone.utc)
    not_after = now - datetime.timedelta(hours=1) if expired else now + datetime.timedelta(days=days)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_after - datetime.timedelta(days=days + 1)).not_valid_after(not_after)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class Issuer:
    """An OIDC issuer of workload identity tokens (a Kubernetes service account issuer, a CI's OIDC provider)."""

    def __init__(self, url="https://oidc.prod-aks.example.net/7b1c0f4e/"):
        self.url = url
        self.key = new_key()

    def token(self, subject="system:serviceaccount:awx:resolver-scim", audience=FEDERATED_AUDIENCE, lifetime=3600):
        now = int(time.time())
        return jwt.encode({"iss": self.url, "sub": subject, "aud": audience, "iat": now, "nbf": now,
                           "exp": now + lifetime, "jti": str(uuid.uuid4())}, key_pem(self.key), algorithm="RS256",
                          headers={"kid": "sa-key-1"})
