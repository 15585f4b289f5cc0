"""The native image builder (enclave-eif, scripts/make-eif.sh) and
enclavectl describe-eif, checked against an independent reader of the EIF
format written here in Python from the spec (docs/operations.md cites it):
header fields, section table, CRC with zlib.crc32, PCRs with hashlib, the
ramdisks' cpio entries. Stand-in blob files made by the test stand in for
AWS's bzImage, cmdline, init and nsm.ko (the EIF's metadata says so).
"""
import hashlib
import json
import os
import struct
import subprocess
import zlib

import pytest

from helpers.harness import BUILD_DIR, REPO_ROOT, binary

SDE = 1700000000
ZERO48 = b"\0" * 48


# --- the independent reader ---------------------------------------------------

def extend(data):
    return hashlib.sha384(ZERO48 + hashlib.sha384(data).digest()).hexdigest()


def read_eif(data):
    """(header dict, [(type, data)]) per the spec; asserts the layout."""
    assert data[:4] == b".eif"
    version, flags, mem, cpus, reserved, n = struct.unpack(">HHQQHH", data[4:28])
    offsets = struct.unpack(">32Q", data[28:284])
    sizes = struct.unpack(">32Q", data[284:540])
    unused, crc = struct.unpack(">II", data[540:548])
    assert zlib.crc32(data[:544] + data[548:]) == crc
    sections, pos = [], 548
    for i in range(n):
        assert offsets[i] == pos
        typ, sflags, size = struct.unpack(">HHQ", data[pos:pos + 12])
        assert size == sizes[i] and sflags == 0
        sections.append((typ, data[pos + 12:pos + 12 + size]))
        pos += 12 + size
    assert pos == len(data)
    return dict(version=version, flags=flags, mem=mem, cpus=cpus,
                reserved=reserved, n=n, unused=unused), sections


def pcrs(sections):
    k = [d for t, d in sections if t in (1, 2)]
    r = [d for t, d in sections if t == 3]
    return {"PCR0": extend(b"".join(k + r)), "PCR1": extend(b"".join(k + r[:1])),
            "PCR2": extend(b"".join(r[1:]))}


def read_cpio(data):
    """[(name, mode, uid, gid, nlink, mtime, ino, body)] of a newc archive."""
    out, pos = [], 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        f = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = f[11], f[6]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        body = data[pos:pos + filesize]
        pos = (pos + filesize + 3) & ~3
        if name == "TRAILER!!!":
            assert pos == len(data)
            return out
        out.append((name, f[1], f[2], f[3], f[4], f[5], f[0], body))


# --- fixtures -----------------------------------------------------------------

@pytest.fixture
def blobs(tmp_path):
    d = tmp_path / "blobs"
    d.mkdir()
    (d / "bzImage").write_bytes(b"stand-in kernel\0" * 1000)
    (d / "cmdline").write_bytes(b"reboot=k panic=30 pci=off nomodules console=ttyS0\n")
    (d / "init").write_bytes(b"stand-in init\n")
    (d / "nsm.ko").write_bytes(b"stand-in nsm.ko\n")
    return d


def make_eif(blobs, out_dir, tmp, extra_env=None, check=True, umask=0o022):
    env = dict(os.environ, NITRO_BLOBS=str(blobs), NITRO_BLOBS_KIND="stand-in",
               OUT_DIR=str(out_dir), TMPDIR=str(tmp), SOURCE_DATE_EPOCH=str(SDE))
    env.update(extra_env or {})
    r = subprocess.run([os.path.join(REPO_ROOT, "scripts/make-eif.sh"), BUILD_DIR],
                       env=env, capture_output=True, text=True, timeout=300,
                       preexec_fn=lambda: os.umask(umask))
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eif")
    d = tmp / "blobs"
    d.mkdir()
    (d / "bzImage").write_bytes(b"stand-in kernel\0" * 1000)
    (d / "cmdline").write_bytes(b"reboot=k panic=30 pci=off nomodules console=ttyS0\n")
    (d / "init").write_bytes(b"stand-in init\n")
    (d / "nsm.ko").write_bytes(b"stand-in nsm.ko\n")
    out = tmp / "out"
    r = make_eif(d, out, tmp)
    return dict(blobs=d, out=out, tmp=tmp, stdout=r.stdout,
                eif=(out / "enclave.eif").read_bytes(),
                measurements=json.loads((out / "measurements.json").read_text()))


def describe(path, *args):
    return subprocess.run([binary("enclavectl"), "describe-eif", *args, str(path)],
                          capture_output=True, text=True, timeout=60)


# --- the builder against the spec ----------------------------------------------

def test_layout_crc_and_pcrs_match_the_independent_reader(built):
    hdr, sections = read_eif(built["eif"])
    assert hdr == dict(version=4, flags=0, mem=1 << 30, cpus=2, reserved=0, n=5, unused=0)
    assert [t for t, _ in sections] == [1, 2, 5, 3, 3]
    blobs = built["blobs"]
    assert sections[0][1] == (blobs / "bzImage").read_bytes()
    assert sections[1][1] == (blobs / "cmdline").read_bytes()
    want = pcrs(sections)
    m = built["measurements"]["Measurements"]
    assert {k: m[k] for k in want} == want
    for k, v in want.items():
        assert "%s: %s" % (k, v) in built["stdout"]
    b = built["measurements"]["Build"]
    assert b["eif_sha256"] == hashlib.sha256(built["eif"]).hexdigest()
    assert b["blobs_sha256"]["init"] == hashlib.sha256(b"stand-in init\n").hexdigest()
    assert b["blobs"] == "stand-in" and b["kms_backend"] == "native"
    assert "gcc" in b["packages"] and b["source_date_epoch"] == SDE


def test_metadata_is_source_derived_and_says_stand_in(built):
    _, sections = read_eif(built["eif"])
    meta = json.loads(sections[2][1])
    assert meta["BuildMetadata"]["BuildTime"] == "2023-11-14T22:13:20Z"   # SDE
    assert meta["CustomMetadata"]["Blobs"] == "stand-in"
    r = describe(built["out"] / "enclave.eif")
    assert r.returncode == 0, r.stderr
    assert "WARNING: built with stand-in blobs" in r.stdout


def test_ramdisks_are_nitro_clis_layout(built):
    _, sections = read_eif(built["eif"])
    boot = read_cpio(sections[3][1])
    assert [(e[0], e[1]) for e in boot] == [("dev", 0o40755), ("init", 0o100755),
                                             ("nsm.ko", 0o100755)]
    assert boot[2][7] == b"stand-in nsm.ko\n"
    app = read_cpio(sections[4][1])
    names = [e[0] for e in app]
    assert names == sorted(names)
    assert names[:3] == ["cmd", "env", "rootfs"]
    for d in ("dev", "proc", "run", "sys", "tmp", "var"):
        assert "rootfs/" + d in names
    assert "rootfs/usr/bin/enclaved" in names
    assert all(e[2] == 0 and e[3] == 0 and e[5] == SDE for e in app)
    assert [e[6] for e in app] == list(range(1, len(app) + 1))
    assert all(e[1] & 0o170000 in (0o040000, 0o100000, 0o120000) for e in app)
    body = dict((e[0], e[7]) for e in app)
    cmd = open(os.path.join(REPO_ROOT, "enclave/cmd-native"), "rb").read()
    assert body["cmd"] == cmd and body["cmd"].split(b"\n")[0] == b"/usr/bin/enclaved"
    assert body["env"] == open(os.path.join(REPO_ROOT, "enclave/env"), "rb").read()


def test_two_builds_are_byte_identical(built, tmp_path):
    """Later, in another folder, under another umask: the same bytes (the
    staged directories' modes once followed the umask)."""
    out = tmp_path / "second"
    make_eif(built["blobs"], out, tmp_path, umask=0o077)
    assert (out / "enclave.eif").read_bytes() == built["eif"]


def test_describe_eif_json_and_expect(built, tmp_path):
    eif = built["out"] / "enclave.eif"
    r = describe(eif, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    _, sections = read_eif(built["eif"])
    assert {k: d["Measurements"][k] for k in ("PCR0", "PCR1", "PCR2")} == pcrs(sections)
    assert d["EifVersion"] == 4 and d["IsSigned"] is False
    assert [s["Type"] for s in d["Sections"]] == ["kernel", "cmdline", "metadata",
                                                   "ramdisk", "ramdisk"]
    r = describe(eif, "--expect", built["out"] / "measurements.json")
    assert r.returncode == 0, r.stderr
    assert "matches" in r.stdout
    # Each PCR is compared: a measurements file differing in PCR1 alone fails.
    m = dict(built["measurements"])
    m["Measurements"] = dict(m["Measurements"], PCR1="00" * 48)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(m))
    r = describe(eif, "--expect", bad)
    assert r.returncode == 1
    assert "PCR1 differs" in r.stderr and "PCR0" not in r.stderr


# --- refusals -------------------------------------------------------------------

def with_crc(data):
    data = bytearray(data)
    data[544:548] = struct.pack(">I", zlib.crc32(bytes(data[:544] + data[548:])))
    return bytes(data)


def set_u64(data, off, value):
    data = bytearray(data)
    data[off:off + 8] = struct.pack(">Q", value)
    return bytes(data)


def malformed(eif):
    hdr, sections = read_eif(eif)
    last = struct.unpack(">Q", eif[28 + 8 * 4:36 + 8 * 4])[0]
    swapped = bytearray(eif)
    swapped[548:550] = struct.pack(">H", 2)            # kernel's header says cmdline
    grown = set_u64(set_u64(eif, 284 + 8 * 4, len(sections[4][1]) + 1), last + 4,
                    len(sections[4][1]) + 1)
    return {
        "truncated": (eif[:300], "truncated"),
        "bad magic": (b"EIF." + eif[4:], "bad magic"),
        "bad CRC": (eif[:-1] + bytes([eif[-1] ^ 1]), "bad CRC"),
        "overlapping": (with_crc(set_u64(eif, 28 + 8, 548 + 4)), "overlaps"),
        "past the end": (with_crc(grown), "past the end"),
        "too many sections": (with_crc(eif[:26] + struct.pack(">H", 33) + eif[28:]),
                              "too many sections"),
        "wrong order": (with_crc(bytes(swapped)), "expected kernel"),
        "trailing bytes": (with_crc(eif + b"junk"), "after the last section"),
    }


@pytest.mark.parametrize("case", ["truncated", "bad magic", "bad CRC", "overlapping",
                                  "past the end", "too many sections", "wrong order",
                                  "trailing bytes"])
def test_malformed_eif_refused(built, tmp_path, case):
    data, words = malformed(built["eif"])[case]
    f = tmp_path / "bad.eif"
    f.write_bytes(data)
    r = describe(f)
    assert r.returncode == 1, r.stdout
    assert "not a valid EIF" in r.stderr and words in r.stderr, r.stderr
    assert "PCR0" not in r.stdout


# --- missing inputs ------------------------------------------------------------

def test_missing_blobs_named_with_where_to_get_them(tmp_path, blobs):
    (blobs / "init").unlink()
    (blobs / "nsm.ko").unlink()
    r = make_eif(blobs, tmp_path / "out", tmp_path, check=False)
    assert r.returncode == 1
    assert "%s/init" % blobs in r.stderr and "%s/nsm.ko" % blobs in r.stderr
    assert "%s/bzImage" % blobs not in r.stderr
    assert "aws-nitro-enclaves-cli" in r.stderr
    assert not (tmp_path / "out" / "enclave.eif").exists()


def test_kmstool_backend_needs_kmstool_dir(tmp_path, blobs):
    r = make_eif(blobs, tmp_path / "out", tmp_path,
                 extra_env={"KMS_BACKEND": "kmstool", "KMSTOOL_DIR": ""}, check=False)
    assert r.returncode == 1
    assert "KMSTOOL_DIR" in r.stderr and "native" in r.stderr


# --- signed images: PCR8 -----------------------------------------------------

def with_signature(eif, section):
    """eif with a Signature section appended (nitro-cli sign-eif's place)."""
    data = bytearray(eif)
    n = struct.unpack(">H", data[26:28])[0]
    data[26:28] = struct.pack(">H", n + 1)
    data[28 + 8 * n:36 + 8 * n] = struct.pack(">Q", len(eif))
    data[284 + 8 * n:292 + 8 * n] = struct.pack(">Q", len(section))
    data += struct.pack(">HHQ", 4, 0, len(section)) + section
    return with_crc(bytes(data))


@pytest.mark.parametrize("as_array", [True, False])
def test_pcr8_is_the_signing_certificates_der(built, tmp_path, as_array):
    """The certificate's PEM as serde writes a Vec<u8> (an array of
    integers) or as a byte string; PCR8 extends its DER (ssl's decoding)."""
    import ssl

    import cbor2
    vectors = os.environ.get("VECTORS") or os.path.join(REPO_ROOT, "tests/vectors")
    pem = open(os.path.join(vectors, "attestation/aws-nitro-root-g1.pem")).read()
    raw = pem.encode()
    cert = list(raw) if as_array else raw
    sig = cbor2.dumps([{"signing_certificate": cert, "signature": [1, 2, 3]}])
    f = tmp_path / "signed.eif"
    f.write_bytes(with_signature(built["eif"], sig))
    r = describe(f, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["IsSigned"] is True
    assert d["Measurements"]["PCR8"] == extend(ssl.PEM_cert_to_DER_cert(pem))
    # PCR0-2 are those of the unsigned image: the signature is not measured.
    _, sections = read_eif(built["eif"])
    assert d["Measurements"]["PCR0"] == pcrs(sections)["PCR0"]
    # A signature section that holds no certificate is refused.
    f.write_bytes(with_signature(built["eif"], cbor2.dumps([{"signature": [1]}])))
    r = describe(f)
    assert r.returncode == 1 and "no signing_certificate" in r.stderr
