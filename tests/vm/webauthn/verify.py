#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks what webauthn.py saved, as a relying party's server would.

usage: verify.py RESULTS.json

For every ceremony in RESULTS:
  create: clientDataJSON (type webauthn.create, the challenge, the origin);
          the attestation object (CBOR, decoded here): fmt "none", its
          authData the one getAuthenticatorData() gave, the RP ID hash
          SHA-256("localhost"), UP and AT set, the credential ID the
          credential's rawId, the COSE key of the requested algorithm and
          the same key as getPublicKey()'s SubjectPublicKeyInfo;
  get:    clientDataJSON (webauthn.get, challenge, origin), the RP ID
          hash, UP set, the credential the one created (for the resident
          one, found by discovery, with the user handle given at create),
          and the signature over authenticatorData || SHA-256(clientDataJSON)
          verified with the public key from the registration (python3-
          cryptography: ECDSA P-256 SHA-256, Ed25519).
Prints "ok - ..." / "not ok - ..." lines and a "figure:" line per
ceremony; exit status 0 only when every check passed.
"""

import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat, load_der_public_key)


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def cbor(data, i=0):
    """One CBOR item at data[i]: (value, next index).  Definite lengths
    only, which is all WebAuthn's attestation objects and COSE keys use."""
    ib = data[i]
    major, info = ib >> 5, ib & 31
    i += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        arg = int.from_bytes(data[i:i + n], "big")
        i += n
    else:
        raise ValueError(f"CBOR: unsupported additional info {info}")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major in (2, 3):
        v = data[i:i + arg]
        if len(v) != arg:
            raise ValueError("CBOR: truncated string")
        return (bytes(v) if major == 2 else v.decode()), i + arg
    if major == 4:
        out = []
        for _ in range(arg):
            v, i = cbor(data, i)
            out.append(v)
        return out, i
    if major == 5:
        out = {}
        for _ in range(arg):
            k, i = cbor(data, i)
            out[k], i = cbor(data, i)
        return out, i
    if major == 7 and info in (20, 21, 22):
        return {20: False, 21: True, 22: None}[info], i
    raise ValueError(f"CBOR: unsupported major type {major}")


def parse_auth_data(ad):
    """(rpIdHash, flags, counter, credential id or None, COSE key or None)"""
    rp_hash, flags, counter = ad[:32], ad[32], struct.unpack(">I", ad[33:37])[0]
    cred_id = cose = None
    if flags & 0x40:
        n = struct.unpack(">H", ad[53:55])[0]
        cred_id = ad[55:55 + n]
        cose, _ = cbor(ad, 55 + n)
    return rp_hash, flags, counter, cred_id, cose


def cose_to_key(cose):
    if cose.get(1) == 2 and cose.get(-1) == 1:  # EC2, P-256
        x, y = cose[-2], cose[-3]
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()).public_key()
    if cose.get(1) == 1 and cose.get(-1) == 6:  # OKP, Ed25519
        return ed25519.Ed25519PublicKey.from_public_bytes(cose[-2])
    raise ValueError(f"COSE key of an unexpected type: {cose}")


class Checker:
    def __init__(self):
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            print(f"ok - {name}")
        else:
            self.failed += 1
            print(f"not ok - {name}" + (f" ({detail})" if detail else ""))
        return cond


def spki(key):
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def client_data(c, step, want_type, res):
    cd = json.loads(unb64u(step["clientDataJSON"]))
    c.check(f"{res}: clientDataJSON type {want_type}, our challenge and origin",
            cd.get("type") == want_type and cd.get("challenge") == step["challenge"]
            and cd.get("origin") == step["origin"], json.dumps(cd))


def verify(name, entry, c):
    res = name
    cr = entry["create"]
    if not c.check(f"{res}: create returned a credential", "error" not in cr, cr.get("error", "")):
        return
    rp_hash = hashlib.sha256(b"localhost").digest()
    client_data(c, cr, "webauthn.create", f"{res} create")
    att, end = cbor(unb64u(cr["attestationObject"]))
    c.check(f"{res} create: attestation object is one CBOR map, fmt none, empty attStmt",
            end == len(unb64u(cr["attestationObject"])) and att.get("fmt") == "none"
            and att.get("attStmt") == {}, f"fmt {att.get('fmt')}")
    ad = att.get("authData", b"")
    c.check(f"{res} create: its authData is getAuthenticatorData()'s",
            ad == unb64u(cr["authenticatorData"]))
    h, flags, counter, cred_id, cose = parse_auth_data(ad)
    c.check(f"{res} create: RP ID hash is SHA-256(\"localhost\")", h == rp_hash)
    c.check(f"{res} create: flags UP and AT set (0x{flags:02x})", flags & 0x41 == 0x41)
    c.check(f"{res} create: the attested credential ID is the credential's rawId",
            cred_id == unb64u(cr["rawId"]))
    c.check(f"{res} create: COSE key algorithm {cr['alg']} as requested, getPublicKeyAlgorithm() agrees",
            cose is not None and cose.get(3) == cr["alg"] and cr["publicKeyAlgorithm"] == cr["alg"])
    key = load_der_public_key(unb64u(cr["publicKey"]))
    c.check(f"{res} create: getPublicKey() is the COSE key of the authenticator data",
            cose is not None and spki(cose_to_key(cose)) == spki(key))
    aaguid = ad[37:53].hex() if flags & 0x40 else ""
    print(f"figure: {res} credential id {len(cred_id or b'')} bytes, aaguid {aaguid}, "
          f"create counter {counter}, create {cr['ms']} ms")

    g = entry.get("get")
    if not c.check(f"{res}: get returned an assertion", g is not None and "error" not in g,
                   (g or {}).get("error", "no get")):
        return
    client_data(c, g, "webauthn.get", f"{res} get")
    gad = unb64u(g["authenticatorData"])
    gh, gflags, gcounter, _, _ = parse_auth_data(gad)
    c.check(f"{res} get: RP ID hash is SHA-256(\"localhost\")", gh == rp_hash)
    c.check(f"{res} get: flag UP set (0x{gflags:02x})", gflags & 0x01)
    c.check(f"{res} get: the assertion is for the credential created",
            unb64u(g["rawId"]) == unb64u(cr["rawId"]))
    if cr["resident"]:
        c.check(f"{res} get: found by discovery, user handle the one given at create",
                g.get("userHandle") == cr["userId"], f"{g.get('userHandle')} != {cr['userId']}")
    signed = gad + hashlib.sha256(unb64u(g["clientDataJSON"])).digest()
    sig = unb64u(g["signature"])
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, signed, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, signed)
        good = True
    except InvalidSignature:
        good = False
    c.check(f"{res} get: the signature verifies with the registered public key "
            f"({'ECDSA P-256' if isinstance(key, ec.EllipticCurvePublicKey) else 'Ed25519'})", good)
    print(f"figure: {res} get counter {gcounter}, get {g['ms']} ms")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        results = json.load(f)
    c = Checker()
    if not c.check("results hold at least one ceremony", results.get("ceremonies")):
        return 1
    for name, entry in results["ceremonies"].items():
        try:
            verify(name, entry, c)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            c.check(f"{name}: results readable", False, f"{type(e).__name__}: {e}")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
