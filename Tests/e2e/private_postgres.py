"""A throwaway PostgreSQL cluster that belongs to one test, for fault-injection tests.

The shared database of `scripts/test` (PARLEY_MULTI_POSTGRES_URL) cannot be stopped,
crashed or have its connections killed without breaking every other test that uses it, so a
test that does those things starts a cluster of its own: `initdb` into a temporary folder,
`pg_ctl start` on 127.0.0.1 at a port the test names, one database in it.

Unlike `scripts/postgres.sh`, the cluster runs with PostgreSQL's defaults (no `fsync=off`):
the tests stop it with `-m immediate`, which is a crash followed by WAL recovery on the next
start, and what a committed transaction survives then is what Parley's acknowledgements
promise. With fsync off that promise would be the page cache's, not PostgreSQL's.

PostgreSQL refuses to run as root, so when the tests run as root the cluster's files and
processes belong to the `postgres` user (`runuser -u postgres --`), as in scripts/postgres.sh.
Its superuser is `parley` with trust authentication on loopback.
"""
import glob
import os
import shutil
import subprocess
import tempfile

from parley_server import ARTIFACTS


def server_binaries():
    """The newest /usr/lib/postgresql/<version>/bin that has initdb."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: [int(part) if part.isdigit() else part for part in path.split("/")[4].split(".")])
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return os.path.dirname(found[-1])


class PrivatePostgres:
    """One PostgreSQL cluster on 127.0.0.1:`port` holding the database `database`, owned by this
    test: started at construction, `stop`ped and `start`ed again as the test likes (its data
    survives that), removed by `destroy` (or leaving the `with` block), which also keeps its
    server log in the artifacts folder as `<name>-postgres.log`."""

    def __init__(self, port, database="parley_faults", name="private"):
        self.port, self.database, self.name = port, database, name
        self.bin = server_binaries()
        self.dir = tempfile.mkdtemp(prefix="parley-private-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        # PostgreSQL refuses root: as root, the folder and every server command are postgres's.
        self.run_as = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        try:
            self._run(["initdb", "-D", self.data, "-U", "parley", "--auth=trust", "-E", "UTF8"], timeout=120)
            self.start()
            self._run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "parley", database])
        except BaseException:
            self.destroy()
            raise

    def _run(self, command, timeout=60):
        """Runs one of the server's programs as the cluster's owner; raises with its output on failure."""
        result = subprocess.run(self.run_as + [os.path.join(self.bin, command[0])] + command[1:],
                                capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result.stdout

    @property
    def url(self):
        """What Parley's DATABASE_URL takes."""
        return f"postgres://parley@127.0.0.1:{self.port}/{self.database}?sslmode=disable"

    def start(self):
        """Starts the cluster (again) and returns once it accepts connections. After a stop in
        `immediate` mode this runs crash recovery first, as after a power cut."""
        self._run(["pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "120", "-o",
                   f"-k {self.dir} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=100",
                   "start"], timeout=150)

    def stop(self, mode="immediate"):
        """Stops the cluster with pg_ctl's `mode` and returns once the postmaster is gone.
        `immediate` is a crash: every backend exits at once, connections drop without a
        goodbye, and no checkpoint is written."""
        self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"], timeout=90)

    def running(self):
        """Whether the postmaster of this cluster is alive (pg_ctl status)."""
        result = subprocess.run(self.run_as + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "status"],
                                capture_output=True, text=True, timeout=30, cwd=self.dir)
        return result.returncode == 0

    def sql(self, statement):
        """Runs `statement` with psql as the cluster's superuser on the test's database and
        returns psql's unaligned, tuples-only output (rows on lines, columns split by `|`)."""
        result = subprocess.run(self.run_as + ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "parley",
                                               "-d", self.database, "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t",
                                               "-c", statement],
                                capture_output=True, text=True, timeout=60, cwd=self.dir)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed ({result.returncode}) on {statement!r}: {result.stderr}")
        return result.stdout

    def destroy(self):
        """Stops the cluster if it runs (fast mode), keeps its log in the artifacts folder and
        removes its files."""
        if not os.path.isdir(self.dir):
            return
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                subprocess.run(self.run_as + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                                              "-t", "60", "stop"], capture_output=True, timeout=90, cwd=self.dir)
        finally:
            if os.path.exists(self.log_path):
                os.makedirs(ARTIFACTS, exist_ok=True)
                shutil.copyfile(self.log_path, os.path.join(ARTIFACTS, f"{self.name}-postgres.log"))
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False
