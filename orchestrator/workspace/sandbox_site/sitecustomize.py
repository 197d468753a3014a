"""Loaded by every Python the sandbox starts where no network namespace is available: no sockets.

Only AF_UNIX stays (multiprocessing's local pipes use it); anything that could reach a network fails.
"""

import socket as _socket

_Original = _socket.socket


class _NoNetworkSocket(_Original):
    def __init__(self, family=-1, *args, **kwargs):
        if family in (_socket.AF_INET, _socket.AF_INET6, -1):
            raise OSError("network access is disabled in this sandbox")
        super().__init__(family, *args, **kwargs)


_socket.socket = _NoNetworkSocket
_socket.create_connection = lambda *a, **k: (_ for _ in ()).throw(OSError("network access is disabled in this sandbox"))
