"""Caller identity (SPEC §8.2): static bearer tokens, JWTs against a JWKS, client certificates.
No grpc here: the auth interceptor (api/interceptors/auth.py) hands in what the call carried."""
