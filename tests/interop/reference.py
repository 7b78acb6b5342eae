#!/usr/bin/env python3
"""The Python side of ringmesh's live interop test (tests/interop/run.sh).

Re-implements the wire form of the reference library (pydotcompute 0.2.0,
ring_kernels/message.py) with msgpack + numpy, and declares the dataclasses of
tests/interop/interop_types.h. interop.cpp builds the same cases.

  write DIR   write one <case>.msgpack per case, as the reference encodes it
  check DIR   decode ringmesh's files of the same cases with the reference
              decoder, check every value, and check that the bytes are exactly
              the reference's encoding of the same message (C_ONLY cases, which the
              reference cannot write: values only)
"""
import argparse
import sys
import uuid
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass, field, fields
from pathlib import Path

try:
    import msgpack
    import numpy as np
except ImportError as e:
    sys.exit(f"reference.py: {e}: python3-msgpack and python3-numpy are needed "
             f"(scripts/install-deps.sh; they are Debian's /usr/bin/python3's, this is {sys.executable})")

# ---- the reference wire form -------------------------------------------------

BASE = ("message_id", "priority", "correlation_id")


@dataclass
class Message:
    """The common fields; on the wire they follow the user's fields (ringmesh's order)."""
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    priority: int = 128
    correlation_id: uuid.UUID | None = None


def _enc(o):
    if isinstance(o, uuid.UUID):
        return {"__uuid_bin__": o.bytes}
    if isinstance(o, np.ndarray):
        return {"__ndarray__": o.tobytes(), "dtype": str(o.dtype), "shape": list(o.shape)}
    raise TypeError(f"cannot serialize {type(o).__name__}")


def _dec(d):
    if "__uuid_bin__" in d:
        return uuid.UUID(bytes=d["__uuid_bin__"])
    if "__ndarray__" in d:
        return np.frombuffer(d["__ndarray__"], dtype=d["dtype"]).reshape(d["shape"]).copy()
    return d


def wire_name(cls):
    """`__type__` of a class: its name, or WIRE_NAME for an older version of a type."""
    return getattr(cls, "WIRE_NAME", cls.__name__)


def serialize(msg):
    names = [f.name for f in fields(msg) if f.name not in BASE] + list(BASE)
    data = {n: getattr(msg, n) for n in names}
    data["__type__"] = wire_name(type(msg))
    return msgpack.packb(data, default=_enc)


def deserialize(data, cls=None):
    """Decode with the registry (or as @cls); keys that are not fields are dropped,
    missing ones take the dataclass defaults."""
    obj = msgpack.unpackb(data, object_hook=_dec, raw=False)
    name = obj.pop("__type__")
    cls = cls or REGISTRY[name]
    if wire_name(cls) != name:
        raise Mismatch(f"__type__ {name!r}, expected {wire_name(cls)!r}")
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in obj.items() if k in known})


# ---- the types of interop_types.h ---------------------------------------------

@dataclass
class Arrays(Message):
    f32: np.ndarray | None = None
    f64: np.ndarray | None = None
    i8: np.ndarray | None = None
    i16: np.ndarray | None = None
    i32: np.ndarray | None = None
    i64: np.ndarray | None = None
    u8: np.ndarray | None = None
    u16: np.ndarray | None = None
    u32: np.ndarray | None = None
    u64: np.ndarray | None = None
    flags: np.ndarray | None = None
    none: np.ndarray | None = None


@dataclass
class Defaults(Message):
    expression: str | None = None
    operation: str = "sum"
    success: bool = True
    count: int = -7
    scale: float = 1.5
    big: int = 18446744073709551615
    limit: int | None = 10
    error: str | None = None


@dataclass
class DefaultsV1(Message):
    """An older sender's / receiver's version of Defaults: only `expression`."""
    WIRE_NAME = "Defaults"
    expression: str | None = None


@dataclass
class OptIds(Message):
    ref: uuid.UUID | None = None
    label: str | None = None
    when: datetime | None = None  # _enc cannot pack a datetime: only ringmesh sets it


@dataclass
class Part(Message):
    name: str | None = None
    weight: float = 0.0


@dataclass
class Nests(Message):
    grid: list[list[float]] | None = None
    ids: list[list[int]] | None = None
    words: list[list[str]] | None = None
    empty: list[list[int]] | None = None
    none: list[list[float]] | None = None
    parts: list | None = None  # of Part; _enc cannot pack a dataclass, so only ringmesh writes it


REGISTRY = {c.__name__: c for c in (Arrays, Defaults, OptIds, Part, Nests)}

# ---- the cases (interop.cpp builds the same) ------------------------------------

# (name, priority); the case number is the position + 1.
CASES = [("arrays_rank0", 0), ("arrays_rank1", 1), ("arrays_rank2", 127), ("arrays_rank3", 255),
         ("arrays_empty", 128), ("defaults_v2", 200), ("defaults_v1", 17), ("optids_set", 64),
         ("optids_nil", 3), ("nests_lists", 42), ("nests_parts", 250), ("optids_when", 99)]
# Written by ringmesh only (the reference encoder cannot pack Part items or a datetime):
# checked by value.
C_ONLY = {"nests_parts", "optids_when"}
SHAPES = {"arrays_rank0": (), "arrays_rank1": (5,), "arrays_rank2": (2, 3),
          "arrays_rank3": (2, 3, 4), "arrays_empty": (0,)}
DTYPES = {"f32": "float32", "f64": "float64", "i8": "int8", "i16": "int16", "i32": "int32",
          "i64": "int64", "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64",
          "flags": "bool"}
GRID = [[1.5, -2.25, 0.1, 1e300, -0.0], [], [7.0]]
IDS = [[0, 1, -1, 127, 128, -32, -33, 255, 256, -129, 65535, 65536, -32769,
        2**32 - 1, 2**32, -2**31 - 1, -2**63, 2**63 - 1], [], [42]]
WORDS = [["", "a", "café ✓"], [], ["日本語", "x" * 32]]
# optids_when: ringmesh's `when` (1795607020123456 us since the epoch) as its ISO 8601 text;
# the reference decoder leaves a string a string.
WHEN_US = 1795607020123456
WHEN_ISO = "2026-11-25T11:43:40.123456+00:00"
assert (datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=WHEN_US)).isoformat() == WHEN_ISO
PARTS = [("bolt", 0.25, 101, 7, False), ("nut ✓", -3.5, 102, 200, True)]  # name, weight, id n, priority, corr
K = 0x9E3779B97F4A7C15  # spreads u64 / i64 values over the whole range


def element(fname, x):
    """Element x (flat index + case number) of field fname; interop.cpp's fill() computes the same."""
    u = x * K % 2**64
    return {"f32": x / 3.0 - 1.0, "f64": (x - 5) / 7.0,
            "i8": x * 11 % 2**8 - 2**7, "i16": x * 2731 % 2**16 - 2**15,
            "i32": x * 123456789 % 2**32 - 2**31, "i64": -(u >> 1) if x % 2 else u >> 1,
            "u8": x * 11 % 2**8, "u16": x * 2731 % 2**16, "u32": x * 123456789 % 2**32, "u64": u,
            "flags": x % 3 == 0}[fname]


def message_id(n):
    return uuid.UUID(int=0x00112233445566778899AABBCCDDEE00 + n)


def correlation(n):
    return uuid.UUID(bytes=bytes((0xA5 ^ (i * 17 + n)) & 0xFF for i in range(16)))


def ref_id(n):
    return uuid.UUID(bytes=bytes((n * 31 + i * 7) & 0xFF for i in range(16)))


def build(name):
    """The message of case @name as the reference writes it."""
    n = [c for c, _ in CASES].index(name) + 1
    head = {"message_id": message_id(n), "priority": dict(CASES)[name]}
    if name in SHAPES:
        shape = SHAPES[name]
        count = int(np.prod(shape))
        arrays = {f: np.array([element(f, i + n) for i in range(count)], dtype=dt).reshape(shape)
                  for f, dt in DTYPES.items()}
        corr = correlation(n) if name == "arrays_rank3" else None
        return Arrays(**arrays, **head, correlation_id=corr)
    if name == "defaults_v2":
        return Defaults(expression="2+2", **head)
    if name == "defaults_v1":
        return DefaultsV1(expression="2+2", **head)
    if name == "optids_set":
        return OptIds(ref=ref_id(n), label="café ✓", correlation_id=correlation(n), **head)
    if name == "optids_nil":
        return OptIds(ref=None, label="", **head)
    if name == "optids_when":
        return OptIds(ref=None, label="when", when=WHEN_ISO, **head)
    if name == "nests_lists":
        return Nests(grid=GRID, ids=IDS, words=WORDS, empty=[], none=None, **head)
    # nests_parts: the items as the reference decoder gives them back, plain dicts
    return Nests(parts=[{"name": nm, "weight": w, "message_id": message_id(k), "priority": p,
                         "correlation_id": correlation(k) if corr else None, "__type__": "Part"}
                        for nm, w, k, p, corr in PARTS], **head)


# ---- check ------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def same_value(where, got, want):
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            raise Mismatch(f"{where}: {got!r}, expected an ndarray")
        if got.dtype != want.dtype or got.shape != want.shape:
            raise Mismatch(f"{where}: dtype {got.dtype} shape {got.shape}, "
                           f"expected {want.dtype} {want.shape}")
        if got.tobytes() != want.tobytes():
            raise Mismatch(f"{where}: elements {got.ravel().tolist()}, expected {want.ravel().tolist()}")
    elif isinstance(want, (list, dict)):  # element by element, so that 1.0 is not taken for 1
        if type(got) is not type(want) or len(got) != len(want) or (
                isinstance(want, dict) and got.keys() != want.keys()):
            raise Mismatch(f"{where}: {got!r}, expected {want!r}")
        for k in want if isinstance(want, dict) else range(len(want)):
            same_value(f"{where}[{k!r}]", got[k], want[k])
    elif type(got) is not type(want) or got != want:
        raise Mismatch(f"{where}: {got!r}, expected {want!r}")


def same_message(case, got, want):
    if type(got) is not type(want):
        raise Mismatch(f"{case}: decoded a {type(got).__name__}, expected {type(want).__name__}")
    for f in fields(want):
        same_value(f"{case}.{f.name}", getattr(got, f.name), getattr(want, f.name))


def same_bytes(case, got, want):
    if got == want:
        return
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    raise Mismatch(f"{case}: bytes differ from the reference encoding at offset {i} "
                   f"(ringmesh {len(got)} bytes, reference {len(want)}): "
                   f"ringmesh {got[i:i + 16].hex(' ')} / reference {want[i:i + 16].hex(' ')}")


def check(d):
    for name, _ in CASES:
        path = Path(d) / f"{name}.msgpack"
        if not path.is_file():
            raise Mismatch(f"{name}: {path} is missing")
        data = path.read_bytes()
        want = build(name)
        if name == "defaults_v1":
            # ringmesh has only the full Defaults: a current receiver sees every default,
            # an older one (DefaultsV1) drops the keys it does not know.
            same_message(name + " (as DefaultsV1)", deserialize(data, DefaultsV1), want)
            want = Defaults(expression=want.expression, message_id=want.message_id,
                            priority=want.priority)
        same_message(name, deserialize(data), want)
        if name in C_ONLY:
            print(f"python check: {name}: values ok (ringmesh only, no reference bytes; {len(data)} bytes)")
            continue
        same_bytes(name, data, serialize(want))
        print(f"python check: {name}: values ok, bytes identical ({len(data)} bytes)")


def write(d):
    Path(d).mkdir(parents=True, exist_ok=True)
    for name in [c for c, _ in CASES if c not in C_ONLY]:
        data = serialize(build(name))
        (Path(d) / f"{name}.msgpack").write_bytes(data)
        print(f"python write: {name} ({len(data)} bytes)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["write", "check"])
    ap.add_argument("dir", help="directory of the <case>.msgpack files")
    a = ap.parse_args()
    try:
        write(a.dir) if a.command == "write" else check(a.dir)
    except Mismatch as e:
        print(f"python check: FAIL: {e}", file=sys.stderr)
        return 1
    if a.command == "check":
        print(f"python check: PASSED ({len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
