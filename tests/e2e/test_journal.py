"""The daemons log natively to the journal when JOURNAL_STREAM says stderr is the journal.

There is no journald here: the test runs the daemon in a private mount namespace whose
/run/systemd/journal is a tmpfs holding a datagram socket the test reads, which is where
libsystemd sends native journal entries."""

import os
import subprocess
import sys
import textwrap

from svdaemon import build_dir

SCRIPT = textwrap.dedent(r"""
    import os, socket, subprocess, sys, tempfile, time
    daemon, root, stream_file, matched = sys.argv[1:5]
    os.makedirs("/run/systemd/journal", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/systemd/journal"], check=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/run/systemd/journal/socket")
    s.settimeout(10)
    err = open(stream_file, "w")
    st = os.fstat(err.fileno())
    env = dict(os.environ)
    if matched == "1":
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    else:
        env["JOURNAL_STREAM"] = "1:1"  # some other stream: stderr stays plain
    p = subprocess.Popen([daemon, "--root", root, "--timeout", "0"], stderr=err, env=env)
    entries = []
    time.sleep(0.5)  # up and serving; it logs its shutdown on SIGTERM
    p.terminate()
    p.wait(10)
    s.settimeout(0.5)
    while True:
        try:
            entries.append(s.recv(65536).decode(errors="replace"))
        except socket.timeout:
            break
    for e in entries:
        print("ENTRY", e.replace("\n", "|"))
""")


def run(root, matched):
    stream = os.path.join(root, "stderr.txt")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", SCRIPT,
                        str(build_dir() / "src" / "virtqemud" / "virtqemud"), str(root), stream,
                        "1" if matched else "0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    entries = [ln[6:] for ln in r.stdout.splitlines() if ln.startswith("ENTRY ")]
    with open(stream) as f:
        return entries, f.read()


def test_native_journal_when_stderr_is_the_journal(root):
    # --verbose is not given, so info and above: the shutdown message on SIGTERM.
    entries, stderr = run(root, True)
    assert any("SYSLOG_IDENTIFIER=virtqemud" in e and "PRIORITY=6" in e and
               "signal received, shutting down" in e for e in entries), entries
    assert "signal received" not in stderr


def test_plain_stderr_otherwise(root):
    entries, stderr = run(root, False)
    assert not any("SYSLOG_IDENTIFIER=virtqemud" in e for e in entries), entries
    assert "signal received, shutting down" in stderr
