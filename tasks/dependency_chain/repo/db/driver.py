"""The database client as this sandbox provides it: a stand-in for the PostgreSQL driver that answers
like the real database would, with the same errors (no network is reachable from here)."""

# What listens on the database host in every environment (see infra/ and docker-compose.yml).
_LISTENING = {("db.internal", 6432)}
_ORDERS = [(1042, "acme", 129900), (1041, "globex", 4500), (1040, "initech", 78000)]


class Connection:
    def __init__(self, dbname: str):
        self.dbname = dbname

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        limit = params[0] if params else len(_ORDERS)
        return _ORDERS[:limit]


def connect(host: str, port: int, dbname: str, user: str, connect_timeout: float = 5) -> Connection:
    if (host, port) not in _LISTENING:
        raise ConnectionRefusedError(f'connection to server at "{host}", port {port} failed: Connection refused')
    return Connection(dbname)
