"""API keys and the tenants they belong to (loaded from the secrets store in production)."""

API_KEYS = {
    "k-acme-7f3a": "acme",
    "k-globex-19bc": "globex",
}

PROJECTS = {
    "acme": [{"id": "p1", "name": "Roadrunner tracker"}, {"id": "p2", "name": "Anvil logistics"}],
    "globex": [{"id": "p9", "name": "Hammock district"}],
}
