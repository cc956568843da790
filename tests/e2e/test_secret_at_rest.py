"""test_secret_at_rest.py: virtsecretd keeping secret values encrypted at rest (issue 19
item 3), as libvirt 12.1's secret driver does when its unit passes the systemd credential
`secrets-encryption-key` ($CREDENTIALS_DIRECTORY/secrets-encryption-key, 32 bytes) or
secret.conf names a key file (secrets_encryption_key): a value is written to
UUID.aes256cbc, base64 of a random 16-byte IV followed by the value's AES-256-CBC
ciphertext (PKCS#7 padded), and the plain UUID.base64 is removed. Values written before
(plain base64) are still read, and sealed when set again; `encrypt_data = 0` in
secret.conf keeps libvirt 9.0's plain files; without a key nothing changes from libvirt
9.0 (test_secretd.py). libvirtd 9.0, the oracle of the other tests, has no encryption at
rest: these expectations come from libvirt 12.1's virsecretobj.c and secret_config.c, and
the file format is checked independently of our code with `openssl enc`."""

import base64
import os
import subprocess

import libvirt

from svdaemon import DaemonError

UUID = "7e4a3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
VALUE = b"at-rest-\x00\xff-value"
XML = ("<secret ephemeral='no' private='no'><uuid>%s</uuid><usage type='ceph'>"
       "<name>at-rest</name></usage></secret>" % UUID)
KEY = bytes(range(32))


def uri(d):
    return "secret:///system?socket=%s" % d.sock


def secrets_dir(root):
    return root / "etc" / "libvirt" / "secrets"


def creds_env(tmp_path, key=KEY, name="creds"):
    """A credentials directory as systemd makes it for LoadCredentialEncrypted=."""
    creds = tmp_path / name
    creds.mkdir(mode=0o700)
    if key is not None:
        (creds / "secrets-encryption-key").write_bytes(key)
    return {"CREDENTIALS_DIRECTORY": str(creds)}


def set_value(d, value=VALUE):
    c = libvirt.open(uri(d))
    try:
        c.secretDefineXML(XML).setValue(value)
    finally:
        c.close()


def listed_value(d):
    """The secret's value as a client reads it; None when the daemon has no such secret."""
    c = libvirt.open(uri(d))
    try:
        if UUID not in c.listSecrets():
            return None
        return c.secretLookupByUUIDString(UUID).value()
    finally:
        c.close()


def openssl_decrypt(sealed, key=KEY):
    """IV + ciphertext decrypted by openssl (PKCS#7 padding checked and removed)."""
    iv, ct = sealed[:16], sealed[16:]
    r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-K", key.hex(),
                        "-iv", iv.hex()], input=ct, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def value_files(root):
    return sorted(n for n in os.listdir(secrets_dir(root)) if not n.endswith(".xml"))


def test_sealed_value_on_disk_and_restart(daemons, root, tmp_path):
    env = creds_env(tmp_path)
    d = daemons.start_secretd(env=env)
    set_value(d)
    assert value_files(root) == [UUID + ".aes256cbc"]
    path = secrets_dir(root) / (UUID + ".aes256cbc")
    assert os.stat(path).st_mode & 0o777 == 0o600
    text = path.read_bytes()
    # Neither the value nor its base64 is on disk; the file is base64 of IV + ciphertext.
    assert VALUE not in text and base64.b64encode(VALUE) not in text
    sealed = base64.b64decode(text, validate=True)
    assert len(sealed) == 16 + 32  # 18 bytes pad to two blocks
    assert VALUE not in sealed
    assert openssl_decrypt(sealed) == VALUE
    log = d.stderr_text()
    assert base64.b64encode(VALUE).decode() not in log and "at-rest-" not in log
    d.stop()

    d2 = daemons.start_secretd(env=env)
    assert listed_value(d2) == VALUE
    # Set again: a fresh IV each time.
    set_value(d2)
    assert base64.b64decode(path.read_bytes())[:16] != sealed[:16]
    assert listed_value(d2) == VALUE


def test_plain_value_from_before_is_read_then_sealed(daemons, root, tmp_path):
    d = daemons.start_secretd()
    set_value(d, b"before")
    assert value_files(root) == [UUID + ".base64"]
    d.stop()

    d2 = daemons.start_secretd(env=creds_env(tmp_path))
    assert listed_value(d2) == b"before"
    assert value_files(root) == [UUID + ".base64"]  # a load rewrites nothing
    set_value(d2, b"after")
    assert value_files(root) == [UUID + ".aes256cbc"]
    sealed = base64.b64decode((secrets_dir(root) / (UUID + ".aes256cbc")).read_bytes())
    assert openssl_decrypt(sealed) == b"after"


def test_encrypt_data_0_writes_plain_base64(daemons, root, tmp_path):
    (root / "etc" / "libvirt").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "libvirt" / "secret.conf").write_text("encrypt_data = 0\n")
    d = daemons.start_secretd(env=creds_env(tmp_path))
    set_value(d)
    assert value_files(root) == [UUID + ".base64"]
    assert (secrets_dir(root) / (UUID + ".base64")).read_bytes() == base64.b64encode(VALUE)


def test_configured_key_file_and_empty_credentials(daemons, root, tmp_path):
    # secret.conf's secrets_encryption_key, no credential: sealed with that key.
    other = bytes(reversed(range(32)))
    (tmp_path / "key").write_bytes(other)
    (root / "etc" / "libvirt").mkdir(parents=True, exist_ok=True)
    conf = root / "etc" / "libvirt" / "secret.conf"
    conf.write_text('secrets_encryption_key = "%s"\n' % (tmp_path / "key"))
    d = daemons.start_secretd()
    set_value(d)
    sealed = base64.b64decode((secrets_dir(root) / (UUID + ".aes256cbc")).read_bytes())
    assert openssl_decrypt(sealed, other) == VALUE
    d.stop()

    # A credentials directory without the key (the unit loaded none): plain, as libvirt 9.0.
    conf.unlink()
    d2 = daemons.start_secretd(env=creds_env(tmp_path, key=None))
    assert listed_value(d2) is None  # the sealed value cannot be read: the secret is skipped
    assert "no secrets encryption key is loaded" in d2.stderr_text()


def test_wrong_key_skips_the_secret(daemons, root, tmp_path):
    d = daemons.start_secretd(env=creds_env(tmp_path))
    set_value(d)
    d.stop()
    d2 = daemons.start_secretd(env=creds_env(tmp_path, key=bytes(32), name="other"))
    assert listed_value(d2) is None
    log = d2.stderr_text()
    assert "Error reading secret" in log and "wrong key or damaged data" in log
    assert (secrets_dir(root) / (UUID + ".aes256cbc")).exists()  # nothing is removed
    d2.stop()
    d3 = daemons.start_secretd(env=creds_env(tmp_path, name="again"))
    assert listed_value(d3) == VALUE


def refused_start(daemons, label, env=None):
    """The log of a virtsecretd that must fail to start."""
    d = daemons.new(name="virtsecretd", label=label, env=env)
    d.expected_status = "nonzero"
    try:
        d.start()
        raise AssertionError("%s started" % label)
    except DaemonError:
        pass
    assert d.wait_exit(30) != 0
    return d.stderr_text()


def test_key_of_wrong_length_stops_the_daemon(daemons, tmp_path):
    log = refused_start(daemons, "virtsecretd-badkey", creds_env(tmp_path, key=b"short"))
    assert "Encryption key length must be '32'" in log


def test_encrypt_data_1_without_a_key_stops_the_daemon(daemons, root):
    # No key configured nor passed: libvirt's default path, here under the root.
    (root / "etc" / "libvirt").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "libvirt" / "secret.conf").write_text("encrypt_data = 1\n")
    log = refused_start(daemons, "virtsecretd-nokey")
    assert "cannot read the secrets encryption key '%s/run/libvirt/secrets/encryption-key'" \
        % root in log
