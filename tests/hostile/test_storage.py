"""test_storage.py: hostile names and paths sent to virtstoraged on the wire: pool and
volume names that try to leave their directories, volume paths outside every pool, and a
volume definition whose target path points elsewhere. Each case asserts libvirt 9.0's answer
(code, domain, message: the same ones ../e2e/test_storaged.py and test_storaged_vol.py
compare with Debian's libvirtd through virsh), that nothing is written or removed outside
the pool, and that a fresh client is served at once afterwards. The secret value relayed
through virtstoraged is never in either daemon's log."""

import os

import libvirt

import rawrpc
import targets
from hostile import assert_still_serving, check_rpc_error, files_under
from rawrpc import ERROR, string, u32

PROC_STORAGE_POOL_CREATE_XML, PROC_STORAGE_POOL_DEFINE_XML = 76, 77
PROC_STORAGE_POOL_LOOKUP_BY_NAME = 84
PROC_STORAGE_VOL_CREATE_XML, PROC_STORAGE_VOL_DELETE = 93, 94
PROC_STORAGE_VOL_LOOKUP_BY_NAME, PROC_STORAGE_VOL_LOOKUP_BY_PATH = 95, 97
PROC_STORAGE_VOL_GET_PATH, PROC_STORAGE_VOL_WIPE = 100, 165

POOL = "hostile"


def pool_xml(name, path):
    return ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (name, path))


def vol_xml(name, extra=""):
    return ("<volume><name>%s</name><capacity>1024</capacity>%s</volume>" % (name, extra))


def error(c, proc, args):
    m = c.call_raw(proc, args)
    assert m.status == ERROR, (proc, args)
    return rawrpc.RpcError.decode(m.payload)


def started_pool(c, path):
    """The pool POOL at path, defined, built and started over the wire; its wire name."""
    u = c.call(PROC_STORAGE_POOL_DEFINE_XML, string(pool_xml(POOL, path)) + u32(0))
    pool = string(u.string()) + u.opaque_fixed(16)
    c.call(79, pool + u32(0))  # STORAGE_POOL_BUILD
    c.call(78, pool + u32(0))  # STORAGE_POOL_CREATE
    return pool


def test_pool_names_never_leave_the_config_dir(daemons, root):
    """Pool names with '/' are refused by the XML parser (XML_ERROR / STORAGE) whether
    defined or created, and write nothing; lookups by such names find nothing."""
    t = targets.start_storaged(daemons, root)
    before = files_under(root)
    with t.opened() as c:
        for name in ("../../../../tmp/sv-hostile-pool", "a/b", "/abs"):
            for proc in (PROC_STORAGE_POOL_DEFINE_XML, PROC_STORAGE_POOL_CREATE_XML):
                err = error(c, proc, string(pool_xml(name, root / "p")) + u32(0))
                check_rpc_error(err, libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_FROM_STORAGE,
                                "XML error: name %s cannot contain '/'" % name)
            check_rpc_error(error(c, PROC_STORAGE_POOL_LOOKUP_BY_NAME, string(name)),
                            libvirt.VIR_ERR_NO_STORAGE_POOL, libvirt.VIR_FROM_STORAGE,
                            "Storage pool not found: no storage pool with matching name '%s'"
                            % name)
    assert files_under(root) == before
    assert not os.path.exists("/tmp/sv-hostile-pool")
    assert_still_serving(t)


def test_volume_names_and_paths_stay_in_the_pool(daemons, root, tmp_path):
    """In a started dir pool: volume names with '/' are refused (OPERATION_INVALID, as
    libvirt's dir backend refuses them) and create nothing; '..'
    names no volume for lookups, deletes and wipes, and a file beside the pool is neither
    read nor removed; a path outside every pool (or climbing out of one) is no volume;
    a <target><path> elsewhere is ignored, as libvirt makes a dir pool's volume path from
    the pool's and the name."""
    t = targets.start_storaged(daemons, root)
    pool_dir = tmp_path / "pool"
    victim = tmp_path / "victim.img"
    victim.write_bytes(b"keep me")
    with t.opened() as c:
        pool = started_pool(c, pool_dir)
        for name in ("../victim.img", "a/b.img", str(victim)):
            err = error(c, PROC_STORAGE_VOL_CREATE_XML, pool + string(vol_xml(name)) + u32(0))
            check_rpc_error(err, libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_STORAGE,
                            "Requested operation is not valid: volume name '%s' cannot "
                            "contain '/'" % name)
        for name in ("../victim.img", "..", str(victim)):
            check_rpc_error(error(c, PROC_STORAGE_VOL_LOOKUP_BY_NAME, pool + string(name)),
                            libvirt.VIR_ERR_NO_STORAGE_VOL, libvirt.VIR_FROM_STORAGE,
                            "Storage volume not found: no storage vol with matching name '%s'"
                            % name)
            vol = string(POOL) + string(name) + string(str(pool_dir / name))
            for proc, args in ((PROC_STORAGE_VOL_DELETE, vol + u32(0)),
                               (PROC_STORAGE_VOL_WIPE, vol + u32(0)),
                               (PROC_STORAGE_VOL_GET_PATH, vol)):
                check_rpc_error(error(c, proc, args), libvirt.VIR_ERR_NO_STORAGE_VOL,
                                libvirt.VIR_FROM_STORAGE,
                                "Storage volume not found: no storage vol with matching name "
                                "'%s'" % name)
        for path in (str(victim), str(pool_dir / ".." / "victim.img"), "/etc/passwd"):
            check_rpc_error(error(c, PROC_STORAGE_VOL_LOOKUP_BY_PATH, string(path)),
                            libvirt.VIR_ERR_NO_STORAGE_VOL, libvirt.VIR_FROM_STORAGE,
                            "Storage volume not found: no storage vol with matching path '%s'"
                            % path)
        elsewhere = tmp_path / "elsewhere.img"
        u = c.call(PROC_STORAGE_VOL_CREATE_XML, pool + string(vol_xml(
            "inside.img", "<target><path>%s</path></target>" % elsewhere)) + u32(0))
        assert (u.string(), u.string(), u.string()) == (POOL, "inside.img",
                                                        str(pool_dir / "inside.img"))
    assert not elsewhere.exists()
    assert victim.read_bytes() == b"keep me"
    assert sorted(os.listdir(tmp_path)) == ["pool", "victim.img"]
    assert sorted(os.listdir(pool_dir)) == ["inside.img"]
    assert_still_serving(t)
