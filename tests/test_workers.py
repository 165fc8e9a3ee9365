"""`vod serve --workers N`: one listening socket per worker, so connections are spread, and
the workers even out the spread."""

from __future__ import annotations

import http.client
import pickle
import shutil
import socket
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from s3server import child_env, free_port, running

from vod.web import workers

SAMPLE_CATALOG = Path(__file__).parent / "data" / "catalog"
pytestmark = pytest.mark.skipif(not workers.available(), reason="needs SO_REUSEPORT")


def test_a_worker_unpickles_its_own_socket_on_the_shared_port() -> None:
    port = free_port()
    first = pickle.loads(pickle.dumps(workers.ListenOn("127.0.0.1", port)))
    second = pickle.loads(pickle.dumps(workers.ListenOn("127.0.0.1", port)))
    try:
        assert isinstance(first, socket.socket) and isinstance(second, socket.socket)
        assert first.fileno() != second.fileno()
        assert first.getsockname() == second.getsockname() == ("127.0.0.1", port)
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
    finally:
        first.close()
        second.close()


def test_the_port_check_refuses_a_port_in_use_even_by_another_vod() -> None:
    port = free_port()
    workers.check_port("127.0.0.1", port)  # free: no error
    with workers.bind_reuseport("127.0.0.1", port) as other:  # a stale vod serve's worker
        other.listen()
        with pytest.raises(OSError):
            workers.check_port("127.0.0.1", port)


def _listeners_and_connections(port: int) -> tuple[Counter[str], Counter[str]]:
    """Count, per socket inode, the listening sockets and established connections on `port`."""
    listening: Counter[str] = Counter()
    established: Counter[str] = Counter()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if int(local.split(":")[1], 16) != port:
            continue
        if state == "0A":
            listening[inode] += 1
        elif state == "01":
            established[inode] += 1
    return listening, established


def _owner(inodes: set[str], pids: list[int]) -> dict[str, int]:
    owners = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().name
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                owners[target[8:-1]] = pid
    return owners


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    kids: list[int] = []
    for task in tasks.iterdir():
        kids += [int(p) for p in (task / "children").read_text().split()]
    return kids


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc")
def test_two_workers_each_listen_and_share_the_connections(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE_CATALOG, catalog)
    port = free_port()
    args = [sys.executable, "-m", "vod", "serve", "--workers", "2", "--port", str(port)]
    args += ["--catalog", str(catalog), "--index-dir", str(tmp_path / "index")]
    args += ["--media-dir", str(tmp_path / "media")]
    ready = f"http://127.0.0.1:{port}/healthz"
    with running(args, tmp_path / "serve.log", ready, cwd=tmp_path, env=child_env()) as server:
        assert server.popen is not None
        pids = [p for p in _children(server.popen.pid) if "spawn_main" in _cmdline(p)]
        assert len(pids) == 2
        deadline = time.monotonic() + 30  # /healthz answered: at least one worker has started
        while len(listening := _listeners_and_connections(port)[0]) < 2:
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.1)
        # Two listening sockets, one in each worker; the supervisor holds none.
        assert set(_owner(set(listening), [*pids, server.popen.pid]).values()) == set(pids)
        assert len(listening) == 2

        # 32 keep-alive connections, as a load generator opens them all at once.
        connections = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(32)]
        try:
            for connection in connections:
                connection.connect()
            for connection in connections:
                connection.request("GET", "/healthz")
                assert connection.getresponse().read()
            _, established = _listeners_and_connections(port)
            owners = _owner(set(established), pids)
            per_worker = Counter(owners.values())
            # The kernel spreads them by a hash; all on one worker has odds of 1 in 2^31.
            assert sorted(per_worker) == sorted(pids), per_worker
            assert min(per_worker.values()) >= 4, per_worker

            # The hash rarely splits them evenly (16/16 in one start of seven). The workers even
            # it out: a worker holding more than 16 answers some requests with
            # `Connection: close`, and their clients reconnect, hashed again (balance.py).
            asked: list[int] = []
            for _ in range(40):
                asked.append(0)
                for connection in connections:
                    connection.request("GET", "/healthz")  # reconnects if it was closed
                    response = connection.getresponse()
                    assert response.status == 200 and response.read()
                    asked[-1] += response.will_close
                if asked[-1] == 0:
                    break
            assert asked[-1] == 0, asked  # settled: an even split asks nobody to reconnect
            _, established = _listeners_and_connections(port)
            per_worker = Counter(_owner(set(established), pids).values())
            assert sorted(per_worker.values()) == [16, 16], (per_worker, asked)
        finally:
            for connection in connections:
                connection.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""
