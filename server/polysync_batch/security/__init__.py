"""Caller identity (SPEC §8.2): static bearer tokens, JWTs against a JWKS, client certificates.
No grpc here: the call chain's identify step (api/chain/auth.py) hands in what the call carried."""
