"""RSA keys for the Kubernetes service-account signer.

Talos >= 1.7 generates a 4096-bit RSA key for the service account (`UseRSAServiceAccountKey`).
`cryptography` cannot draw an RSA key from a caller's random source, so a seeded bundle searches its
primes here (Miller-Rabin over candidates from the `Entropy`); unseeded ones use `cryptography`.
"""

from __future__ import annotations

import math

from cryptography.hazmat.primitives.asymmetric import rsa

from runner.core.talos.entropy import Entropy

PUBLIC_EXPONENT = 65537
SERVICE_ACCOUNT_KEY_BITS = 4096


def _primes_below(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytearray(len(sieve[n * n :: n]))
    return [n for n in range(limit) if sieve[n]]


_SMALL_PRIMES = _primes_below(5000)
# One gcd against the product of all small primes replaces thousands of trial divisions.
_SMALL_PRIMORIAL = math.prod(_SMALL_PRIMES)
_MILLER_RABIN_ROUNDS = 20  # as Go's rsa.GenerateKey (ProbablyPrime(20))


def _probably_prime(candidate: int, entropy: Entropy) -> bool:
    if math.gcd(candidate, _SMALL_PRIMORIAL) != 1:
        return candidate in _SMALL_PRIMES
    # Fermat base 2 first: one modular power throws out nearly every composite survivor of the sieve.
    if pow(2, candidate - 1, candidate) != 1:
        return False
    d, s = candidate - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(_MILLER_RABIN_ROUNDS):
        witness = 2 + entropy.int_below(candidate - 3)
        x = pow(witness, d, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, entropy: Entropy) -> int:
    while True:
        candidate = int.from_bytes(entropy.bytes(bits // 8), "big")
        # Top two bits set so p*q has exactly 2*bits bits; low bit set so it is odd.
        candidate |= (3 << (bits - 2)) | 1
        if (candidate - 1) % PUBLIC_EXPONENT != 0 and _probably_prime(candidate, entropy):
            return candidate


def rsa_private_key(entropy: Entropy, bits: int = SERVICE_ACCOUNT_KEY_BITS) -> rsa.RSAPrivateKey:
    if not entropy.deterministic:
        return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)
    while True:
        p, q = _prime(bits // 2, entropy), _prime(bits // 2, entropy)
        if p != q:
            break
    p, q = max(p, q), min(p, q)
    d = pow(PUBLIC_EXPONENT, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(PUBLIC_EXPONENT, p * q),
    )
    return numbers.private_key()
