"""scripts/backup and scripts/restore between two temporary roots: an old VM and a new one.

The backup of a live SQLite database (a writer keeps its connection open in WAL mode with
uncheckpointed changes) holds every committed row, the JWT key, the DTLS certificate,
parley.env and turnserver.conf. Restored onto a "new VM" with other addresses, the data, the
domain and the TURN secret come back while the addresses are this VM's own, in parley.env and
turnserver.conf alike; the old turnserver.conf waits beside the new one for comparison, and
a stale write-ahead log of the new VM is not applied to the restored database.

Attachments (issue 15): a real Parley on the old VM's root, with a file uploaded and sent in a
DM, is backed up while it runs; the archive holds the file under data/files/ but not the *.part
of an upload in progress, and a Parley started on the restored root serves the same bytes from
its storage folder (DATA_DIR/files, or a STORAGE_URL=file:/// folder), whose earlier files the
restore replaced. With STORAGE_URL=s3://... the archive holds no files and both scripts say so.
"""
import os
import re
import sqlite3
import stat
import subprocess
import tarfile

import pytest
import requests

from parley_server import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
DOMAIN = "chat.parley-test.example"


def script(name, *args):
    return subprocess.run([os.path.join(SCRIPTS, name), *map(str, args)], capture_output=True, text=True, timeout=60)


def env_value(root, name):
    text = (root / "etc" / "parley" / "parley.env").read_text()
    return re.findall(rf"^{name}=(.*)$", text, re.MULTILINE)[-1]


@pytest.fixture
def old_vm(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    configured = script("configure-host", "--root", root, "--domain", DOMAIN, "--public-ip", "203.0.113.10",
                        "--private-ip", "10.0.0.5")
    assert configured.returncode == 0, configured.stderr
    data = root / "var" / "lib" / "parley"
    data.mkdir(parents=True)
    (data / "jwt.key").write_text("k" * 48)
    (data / "dtls-certificate.pem").write_text("certificate")
    (data / "dtls-private-key.pem").write_text("key")
    return root


def test_backup_of_a_live_database_restores_onto_a_new_vm_with_its_own_addresses(old_vm, tmp_path):
    database = old_vm / "var" / "lib" / "parley" / "parley.db"
    writer = sqlite3.connect(database)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")   # committed rows stay in the WAL, as in a running server
    writer.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    writer.executemany("INSERT INTO messages (body) VALUES (?)", [(f"message {i}",) for i in range(500)])
    writer.commit()
    assert os.path.getsize(f"{database}-wal") > 0
    try:
        backup = script("backup", "--root", old_vm, "--dest", tmp_path / "backups")
    finally:
        writer.close()
    assert backup.returncode == 0, backup.stderr
    archive = re.search(r"^backup: (.*)$", backup.stdout, re.MULTILINE).group(1)
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "backups").st_mode) == 0o700
    with tarfile.open(archive) as tar:
        names = {member.name for member in tar.getmembers() if member.isfile()}
    assert {"data/parley.db", "data/jwt.key", "data/dtls-certificate.pem", "data/dtls-private-key.pem",
            "etc/parley/parley.env", "etc/turnserver.conf", "etc/caddy/Caddyfile"} <= names, names

    new_vm = tmp_path / "new"
    stale = new_vm / "var" / "lib" / "parley"
    stale.mkdir(parents=True)
    (stale / "parley.db-wal").write_bytes(b"a stale write-ahead log of the new VM's own empty database")
    restored = script("restore", archive, "--root", new_vm, "--public-ip", "198.51.100.7", "--private-ip", "10.0.1.9")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert not (stale / "parley.db-wal").exists()
    rows = sqlite3.connect(stale / "parley.db").execute("SELECT count(*), max(body) FROM messages").fetchone()
    assert rows == (500, "message 99")
    assert (stale / "jwt.key").read_text() == "k" * 48
    assert stat.S_IMODE((stale / "jwt.key").stat().st_mode) == 0o600
    # Data, domain and secret from the old VM; addresses of the new one, everywhere.
    assert env_value(new_vm, "TURN_SECRET") == env_value(old_vm, "TURN_SECRET")
    assert env_value(new_vm, "PARLEY_DOMAIN") == DOMAIN
    assert (env_value(new_vm, "RTC_PUBLIC_IP"), env_value(new_vm, "PARLEY_PRIVATE_IP")) == ("198.51.100.7", "10.0.1.9")
    turn = (new_vm / "etc" / "turnserver.conf").read_text()
    assert "external-ip=198.51.100.7/10.0.1.9" in turn and "203.0.113.10" not in turn
    assert "external-ip=203.0.113.10/10.0.0.5" in (new_vm / "etc" / "turnserver.conf.from-backup").read_text()
    assert "RTC_PUBLIC_IP changes from 203.0.113.10 to 198.51.100.7" in restored.stdout
    assert script("configure-host", "--root", new_vm, "--check").returncode == 0


def test_backup_refuses_a_missing_database_and_restore_a_foreign_archive(old_vm, tmp_path):
    missing = script("backup", "--root", old_vm, "--dest", tmp_path / "backups")
    assert missing.returncode != 0 and "no database" in missing.stderr
    foreign = tmp_path / "foreign.tar.gz"
    (tmp_path / "x").write_text("x")
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(tmp_path / "x", arcname="x")
    refused = script("restore", foreign, "--root", tmp_path / "new")
    assert refused.returncode != 0 and "not a scripts/backup archive" in refused.stderr


def test_a_database_elsewhere_is_restored_where_parley_reads_it(old_vm, tmp_path):
    """DATABASE_URL names its own SQLite file (relative: from the unit's WorkingDirectory): the
    restore writes it there, not to DATA_DIR/parley.db where Parley would not look."""
    env = old_vm / "etc" / "parley" / "parley.env"
    env.write_text(env.read_text() + "DATABASE_URL=sqlite://chats/team.db\n")
    database = old_vm / "var" / "lib" / "parley" / "chats" / "team.db"
    database.parent.mkdir(parents=True)
    writer = sqlite3.connect(database)
    writer.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
    writer.execute("INSERT INTO messages (body) VALUES ('kept')")
    writer.commit()
    writer.close()
    backup = script("backup", "--root", old_vm, "--dest", tmp_path / "backups")
    assert backup.returncode == 0, backup.stdout + backup.stderr
    archive = re.search(r"^backup: (.*)$", backup.stdout, re.MULTILINE).group(1)
    new_vm = tmp_path / "new"
    restored = script("restore", archive, "--root", new_vm, "--public-ip", "198.51.100.7", "--private-ip", "10.0.1.9")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    target = new_vm / "var" / "lib" / "parley" / "chats" / "team.db"
    assert sqlite3.connect(target).execute("SELECT body FROM messages").fetchall() == [("kept",)]
    assert not (new_vm / "var" / "lib" / "parley" / "parley.db").exists()


# MARK: attachments

PARLEY_PORTS = {"default": (18670, 18671), "custom": (18672, 18673)}


def storage_folder(root, storage):
    """Where Parley on `root` keeps attachment files: DATA_DIR/files, or the STORAGE_URL folder."""
    return root / "var" / "lib" / "parley" / "files" if storage == "default" else root / "srv" / "parley-files"


def parley_on(root, name, port, storage):
    """A Parley server whose data (and attachment folder) is that of the fake root's parley.env."""
    env = {"DATA_DIR": str(root / "var" / "lib" / "parley"), "RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "warning"}
    if storage == "custom":
        env["STORAGE_URL"] = f"file://{storage_folder(root, storage)}"
    return Server(name, port, env)


def sign_up(server, name):
    user_id, token = server.sign_up(name)
    return user_id, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("storage", ["default", "custom"])
def test_attachments_of_a_running_server_come_back_with_the_database(old_vm, tmp_path, storage):
    if storage == "custom":
        env = old_vm / "etc" / "parley" / "parley.env"
        env.write_text(env.read_text() + "STORAGE_URL=file:///srv/parley-files\n")
    data = old_vm / "var" / "lib" / "parley"
    for name in ("dtls-certificate.pem", "dtls-private-key.pem"):   # the fixture's are no certificate
        (data / name).unlink()
    content = os.urandom(3000) + b"the same bytes after the restore"
    old = parley_on(old_vm, f"backup-old-{storage}", PARLEY_PORTS[storage][0], storage)
    try:
        _, alice = sign_up(old, "Alice")
        bob_id, bob = sign_up(old, "Bob")
        dm = requests.post(f"{old.url}/conversations", json={"kind": "dm", "userId": bob_id}, headers=alice, timeout=10)
        assert dm.status_code == 201, dm.text
        conversation = dm.json()["id"]
        announced = requests.post(f"{old.url}/conversations/{conversation}/attachments", headers=alice, timeout=10,
                                  json={"name": "report.bin", "size": len(content), "contentType": "application/octet-stream"})
        assert announced.status_code == 201, announced.text
        attachment, upload = announced.json()["attachment"]["id"], announced.json()["upload"]
        put = requests.request(upload["method"], upload["url"], data=content, headers=upload["headers"], timeout=10)
        assert put.status_code in (200, 204), put.text
        sent = requests.post(f"{old.url}/conversations/{conversation}/messages", headers=alice, timeout=10,
                             json={"content": "", "attachmentIds": [attachment]})
        assert sent.status_code == 201, sent.text
        files = storage_folder(old_vm, storage)
        assert (files / attachment).read_bytes() == content
        (files / "att_inprogress.part").write_bytes(b"half an upload")   # as an upload in progress leaves it
        backup = script("backup", "--root", old_vm, "--dest", tmp_path / "backups")   # while Parley runs
    finally:
        old.stop()
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert "data/files/  1 attachment file," in backup.stdout, backup.stdout
    archive = re.search(r"^backup: (.*)$", backup.stdout, re.MULTILINE).group(1)
    with tarfile.open(archive) as tar:
        names = {member.name for member in tar.getmembers() if member.isfile()}
        assert tar.extractfile(f"data/files/{attachment}").read() == content
    assert {"data/parley.db", "data/jwt.key", f"data/files/{attachment}"} <= names, names
    assert not any(name.endswith(".part") for name in names), names

    new_vm = tmp_path / "new"
    stale = storage_folder(new_vm, storage)
    stale.mkdir(parents=True)
    (stale / "att_stale").write_bytes(b"a file of the new VM's own, unknown to the restored database")
    (stale / "att_stale.part").write_bytes(b"and an upload of it in progress")
    restored = script("restore", archive, "--root", new_vm, "--public-ip", "198.51.100.7", "--private-ip", "10.0.1.9")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"restored: {stale} (1 attachment files)" in restored.stdout, restored.stdout
    assert sorted(os.listdir(stale)) == [attachment]
    assert stat.S_IMODE((stale / attachment).stat().st_mode) == 0o640
    assert stat.S_IMODE(stale.stat().st_mode) == 0o700
    new = parley_on(new_vm, f"backup-new-{storage}", PARLEY_PORTS[storage][1], storage)
    try:
        # Bob's token of the old VM: the JWT key came back with the data.
        fetched = requests.get(f"{new.url}/attachments/{attachment}", headers=bob, timeout=10)
        assert fetched.status_code == 200, fetched.text
        assert fetched.content == content
    finally:
        new.stop()


def test_with_s3_storage_the_archive_holds_no_files_and_both_scripts_say_where_they_are(old_vm, tmp_path):
    env = old_vm / "etc" / "parley" / "parley.env"
    url = "s3://parley-files?endpoint=https://s3.example.com&region=eu-1"
    env.write_text(env.read_text() + f"STORAGE_URL={url}\nS3_ACCESS_KEY_ID=key\nS3_SECRET_ACCESS_KEY=secret\n")
    database = sqlite3.connect(old_vm / "var" / "lib" / "parley" / "parley.db")
    database.execute("CREATE TABLE attachments (id TEXT PRIMARY KEY)")
    database.commit()
    database.close()
    backup = script("backup", "--root", old_vm, "--dest", tmp_path / "backups")
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert "NOT in this archive" in backup.stdout and "s3://parley-files/attachments/" in backup.stdout, backup.stdout
    archive = re.search(r"^backup: (.*)$", backup.stdout, re.MULTILINE).group(1)
    with tarfile.open(archive) as tar:
        names = {member.name for member in tar.getmembers()}
        assert f"STORAGE_URL={url}" in tar.extractfile("etc/parley/parley.env").read().decode()
    assert not any(name.startswith("data/files") for name in names), names
    restored = script("restore", archive, "--root", tmp_path / "new", "--public-ip", "198.51.100.7",
                      "--private-ip", "10.0.1.9")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"attachments are in the S3 bucket of STORAGE_URL={url}" in restored.stdout, restored.stdout
    assert not (tmp_path / "new" / "var" / "lib" / "parley" / "files").exists()
