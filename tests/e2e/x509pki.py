"""x509pki.py: certificates for remote access over TLS, made with certtool (gnutls-bin) as
libvirt's docs/tlscerts.rst has them: a CA, the server's (CN=localhost, IP address
127.0.0.1), two clients' (CN=alice, CN=mallory), and a pkipath directory per client as
virsh reads it (cacert.pem, clientcert.pem, clientkey.pem); "nocert" holds the CA alone.
Used by tests/e2e/test_remote.py and bench/remote."""

import shutil
import subprocess
from pathlib import Path

CLIENT_INFO = "country = GB\norganization = Test\ncn = %s\ntls_www_client\n" \
    "encryption_key\nsigning_key\nexpiration_days = 30\n"


class Pki:
    """A CA and the certificates signed by it, in one directory."""

    ALLOWED_DN = "C=GB,O=Test,CN=alice"  # alice's certificate's DN, as gnutls formats it

    def __init__(self, d):
        self.dir = Path(d)
        self.make("ca", "cn = Test CA\nca\ncert_signing_key\nexpiration_days = 30\n")
        self.make("server", "organization = Test\ncn = localhost\nip_address = 127.0.0.1\n"
                            "dns_name = localhost\ntls_www_server\nencryption_key\n"
                            "signing_key\nexpiration_days = 30\n")
        for who in ("alice", "mallory"):
            self.make(who, CLIENT_INFO % who)
        self.clients = {who: self.client_dir(who, True) for who in ("alice", "mallory")}
        self.clients["nocert"] = self.client_dir("nocert", False)

    def certtool(self, *args):
        subprocess.run(["certtool"] + list(args), cwd=self.dir, check=True,
                       capture_output=True)

    def make(self, name, info):
        (self.dir / (name + ".info")).write_text(info)
        self.certtool("--generate-privkey", "--key-type=rsa", "--bits=2048",
                      "--outfile", name + "-key.pem")
        if name == "ca":
            self.certtool("--generate-self-signed", "--load-privkey", "ca-key.pem",
                          "--template", "ca.info", "--outfile", "ca-cert.pem")
        else:
            self.certtool("--generate-certificate", "--load-privkey", name + "-key.pem",
                          "--load-ca-certificate", "ca-cert.pem", "--load-ca-privkey",
                          "ca-key.pem", "--template", name + ".info", "--outfile",
                          name + "-cert.pem")

    def client_dir(self, who, with_cert):
        d = self.dir / ("pki-" + who)
        d.mkdir()
        shutil.copy(self.dir / "ca-cert.pem", d / "cacert.pem")
        if with_cert:
            shutil.copy(self.dir / (who + "-cert.pem"), d / "clientcert.pem")
            shutil.copy(self.dir / (who + "-key.pem"), d / "clientkey.pem")
        return d

    def install_server(self, root):
        """libvirt's default paths, below root."""
        for src, dst in (("ca-cert.pem", "etc/pki/CA/cacert.pem"),
                         ("server-cert.pem", "etc/pki/libvirt/servercert.pem"),
                         ("server-key.pem", "etc/pki/libvirt/private/serverkey.pem")):
            (root / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.dir / src, root / dst)

    def install_client(self, root, who):
        """who's files at libvirt's client paths below root (a daemon's own connections)."""
        for src, dst in (("ca-cert.pem", "etc/pki/CA/cacert.pem"),
                         (who + "-cert.pem", "etc/pki/libvirt/clientcert.pem"),
                         (who + "-key.pem", "etc/pki/libvirt/private/clientkey.pem")):
            (root / dst).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.dir / src, root / dst)
        return root

    def libvirtd_conf(self):
        """The same files for libvirtd, named by its keys."""
        return ('ca_file = "%s"\ncert_file = "%s"\nkey_file = "%s"\n'
                % (self.dir / "ca-cert.pem", self.dir / "server-cert.pem",
                   self.dir / "server-key.pem"))
