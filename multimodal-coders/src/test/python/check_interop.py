"""Beam Python side of BeamPythonInteropITCase (run by the Java test, not on its own).

Usage: check_interop.py DIR

Reads what Java wrote to DIR and checks it with Beam Python and pyarrow only (no Java):
  schema.pb       the portable schema proto (SchemaTranslation.schemaToProto)
  rows-N.bin      RowCoder encodings of the rows
  batch.arrow     the same rows as an ArrowBatchCodec IPC stream
  expected.json   the rows' values in plain JSON (bytes as hex / base64)
Then writes values made here for Java to check:
  py-rows-N.bin   RowCoder encodings (same schema) of the rows py_row(N), N = 0, 1
  py-batch.arrow  an IPC stream written by pyarrow (see write_py_batch)
It also checks that the Python logical types reject malformed base rows naming the field.
Exits non-zero, naming the field, on the first mismatch.
"""

import base64
import json
import os
import struct
import sys
import zlib

import numpy as np
import pyarrow as pa
from apache_beam.coders import RowCoder
from apache_beam.coders.coder_impl import create_InputStream
from apache_beam.portability.api import schema_pb2

import ainative_multimodal.logical_types as lt

PY_ROWS = 2
PY_BATCH_ROWS = 3


def check(condition, what):
  if not condition:
    raise AssertionError(what)


def png_rgb(width, height, seed):
  """A PNG written by hand (zlib + CRC): pixel (y, x, c) = (y * width + x) * 20 + c * 5 + seed."""
  px = bytes(((y * width + x) * 20 + c * 5 + seed) & 0xFF
             for y in range(height) for x in range(width) for c in range(3))
  raw = b"".join(b"\x00" + px[y * width * 3:(y + 1) * width * 3] for y in range(height))

  def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

  return (b"\x89PNG\r\n\x1a\n"
          + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
          + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_size(data):
  check(data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "image.data is not a PNG")
  return struct.unpack(">II", data[16:24])


def check_tensor(name, array, expected):
  check(isinstance(array, np.ndarray), "%s is a %s, not a numpy array" % (name, type(array)))
  check(array.dtype == np.dtype(expected["dtype"]),
        "%s.dtype %s != %s" % (name, array.dtype, expected["dtype"]))
  check(list(array.shape) == expected["shape"],
        "%s.shape %s != %s" % (name, list(array.shape), expected["shape"]))
  check(array.astype(array.dtype.newbyteorder("<")).tobytes() == bytes.fromhex(expected["hex"]),
        "%s elements differ" % name)


def check_row(i, row, exp):
  where = "rows-%d" % i
  check(row.id == exp["id"], "%s.id %s != %s" % (where, row.id, exp["id"]))
  check_tensor(where + ".t", row.t, exp["t"])
  # an independent recipe for t, the same one Java used: t.flat[k] = id * 10 + k + 0.25
  recipe = (np.arange(6, dtype=np.float32) + np.float32(exp["id"] * 10 + 0.25)).reshape(2, 3)
  check(np.array_equal(row.t, recipe), "%s.t %s != recipe %s" % (where, row.t, recipe))
  if exp["ragged"] is None:
    check(row.ragged is None, where + ".ragged should be null")
  else:
    check_tensor(where + ".ragged", row.ragged, exp["ragged"])
  check(row.image.format == exp["image"]["format"], where + ".image.format")
  check(row.image.data == base64.b64decode(exp["image"]["b64"]), where + ".image.data")
  check(png_size(row.image.data) == (exp["image"]["width"], exp["image"]["height"]),
        where + ".image size")
  check(row.audio.sample_rate == exp["audio"]["sample_rate"], where + ".audio.sample_rate")
  check(row.audio.samples.dtype == np.float32, where + ".audio.samples dtype")
  check(row.audio.samples.shape[1] == exp["audio"]["channels"], where + ".audio channels")
  check(row.audio.samples.astype("<f4").tobytes() == bytes.fromhex(exp["audio"]["hex"]),
        where + ".audio.samples")
  for field in ("emb", "emb_any"):
    value, e = getattr(row, field), exp[field]
    if e is None:
      check(value is None, "%s.%s should be null" % (where, field))
      continue
    check(value.values.astype("<f4").tobytes() == bytes.fromhex(e["hex"]),
          "%s.%s.values" % (where, field))
    check(value.model_id == e["model_id"], "%s.%s.model_id" % (where, field))
  ref, e = row.ref, exp["ref"]
  check((ref.job_id, ref.sha256.hex(), ref.size, ref.value_type, ref.location)
        == (e["job_id"], e["sha256_hex"], e["size"], e["value_type"], e["location"]),
        "%s.ref %s != %s" % (where, ref, e))


def check_batch(table, expected):
  rows = expected["rows"]
  check(table.num_rows == len(rows), "batch has %d rows, not %d" % (table.num_rows, len(rows)))
  t = table.column("t").combine_chunks()
  check(isinstance(t.type, pa.FixedShapeTensorType),
        "batch column t is %s, not arrow.fixed_shape_tensor" % t.type)
  tensors = t.to_numpy_ndarray()
  for i, exp in enumerate(rows):
    check_tensor("batch.t[%d]" % i, tensors[i], exp["t"])
  image = table.column("image").combine_chunks()
  emb = table.column("emb").combine_chunks()
  emb_values = emb.field("values").flatten().to_numpy().reshape(len(rows), -1)
  ragged = table.column("ragged").combine_chunks()
  audio = table.column("audio").combine_chunks()
  for i, exp in enumerate(rows):
    check(image.field("format")[i].as_py() == exp["image"]["format"], "batch.image.format")
    check(image.field("data")[i].as_py() == base64.b64decode(exp["image"]["b64"]),
          "batch.image[%d].data" % i)
    check(emb_values[i].astype("<f4").tobytes() == bytes.fromhex(exp["emb"]["hex"]),
          "batch.emb[%d].values" % i)
    check(emb.field("model_id")[i].as_py() == exp["emb"]["model_id"], "batch.emb.model_id")
    if exp["ragged"] is None:
      check(not ragged[i].is_valid, "batch.ragged[%d] should be null" % i)
    else:
      r = ragged[i].as_py()
      check(r["dtype"] == exp["ragged"]["dtype"] and r["shape"] == exp["ragged"]["shape"]
            and r["data"] == bytes.fromhex(exp["ragged"]["hex"]), "batch.ragged[%d]" % i)
    a = audio[i].as_py()
    check(a["sample_rate"] == exp["audio"]["sample_rate"]
          and a["samples"] == bytes.fromhex(exp["audio"]["hex"]), "batch.audio[%d]" % i)
  field = table.schema.field("image")
  check(field.metadata[b"beam:logical_type"] == lt.IMAGE_URN.encode(),
        "batch image field metadata %s" % field.metadata)


def py_row(constructor, k):
  """Row k written by Python; BeamPythonInteropITCase.pythonRow(k) is the same recipe."""
  return constructor(
      id=100 + k,
      t=(np.arange(6, dtype=np.float32) * (k + 1) - np.float32(0.5)).reshape(2, 3),
      ragged=np.array([[k, -k, 7]], dtype=np.int64) if k == 0 else None,
      image=lt.Image("png", png_rgb(3, 2, k)),
      audio=lt.Audio(8000, np.array([[0.5, -0.5], [0.25, k]], dtype=np.float32)),
      emb=lt.Embedding(np.array([1.5, -2.0, 0.0, k], dtype=np.float32),
                       "py-model" if k == 0 else None),
      emb_any=lt.Embedding(np.array([0.125 * (i + 1) for i in range(k + 1)], dtype=np.float32)),
      ref=lt.ObjectRef("py-job", bytes(range(32)), 1234 + k, lt.IMAGE_URN,
                       "file:///tmp/py-%d" % k))


def write_py_batch(path):
  """Rows r = 0..2: t.flat[k] = r * 100 + k (fixed_shape_tensor float32 [2, 3], no ainative
  metadata); image = png_rgb(3, 2, r) (ainative image URN in the field metadata); emb = [r,
  r + 0.5, -r, 1] with model_id 'py' for even r, else null (embedding URN, argument '4')."""
  n = PY_BATCH_ROWS
  tensors = np.stack([np.arange(6, dtype=np.float32).reshape(2, 3) + r * 100 for r in range(n)])
  t = pa.FixedShapeTensorArray.from_numpy_ndarray(tensors)
  image = pa.StructArray.from_arrays(
      [pa.array(["png"] * n, pa.utf8()), pa.array([png_rgb(3, 2, r) for r in range(n)], pa.binary())],
      names=["format", "data"])
  values = pa.FixedSizeListArray.from_arrays(
      pa.array(np.concatenate([[r, r + 0.5, -r, 1.0] for r in range(n)]).astype(np.float32)), 4)
  emb = pa.StructArray.from_arrays(
      [values, pa.array(["py" if r % 2 == 0 else None for r in range(n)], pa.utf8())],
      names=["values", "model_id"])
  schema = pa.schema([
      pa.field("t", t.type, nullable=False),
      pa.field("image", image.type, nullable=False,
               metadata={"beam:logical_type": lt.IMAGE_URN, "beam:logical_type:argument": ""}),
      pa.field("emb", emb.type, nullable=False,
               metadata={"beam:logical_type": lt.EMBEDDING_URN,
                         "beam:logical_type:argument": "4"}),
  ])
  batch = pa.record_batch([t, image, emb], schema=schema)
  with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
    writer.write_batch(batch)


def check_bad_input():
  """The Python logical types reject malformed base rows with a ValueError naming the field."""
  cases = [
      (lt.TensorType(""), lt.TensorRow("complex64", [1], b"\0" * 8), "tensor.dtype"),
      (lt.TensorType(""), lt.TensorRow("int32", [2, 3], b"\0" * 20), "tensor.data has 20 bytes"),
      (lt.TensorType(""), lt.TensorRow("uint8", [4, -2], b""), "tensor.shape[1] = -2"),
      (lt.TensorType("float32[2]"), lt.TensorRow("int32", [2], b"\0" * 8), "does not match"),
      (lt.AudioType(), lt.AudioRow(8000, 2, b"\0" * 12), "not whole float32 frames"),
      (lt.EmbeddingType(4), lt.EmbeddingRow([1.0, 2.0], None), "embedding has 2 values"),
      (lt.ObjectRefType(), lt.ObjectRef("j", b"\0" * 31, 1, "t", "file:///x"), "sha256 has 31"),
  ]
  for logical, base, expected in cases:
    try:
      logical.to_language_type(base)
    except ValueError as e:
      check(expected in str(e), "%s: error %r does not name %r" % (logical.urn(), str(e), expected))
    else:
      raise AssertionError("%s accepted the malformed %s" % (logical.urn(), base))


def main(directory):
  check_bad_input()
  schema = schema_pb2.Schema()
  with open(os.path.join(directory, "schema.pb"), "rb") as f:
    schema.ParseFromString(f.read())
  with open(os.path.join(directory, "expected.json")) as f:
    expected = json.load(f)
  coder = RowCoder(schema)
  for i, exp in enumerate(expected["rows"]):
    with open(os.path.join(directory, "rows-%d.bin" % i), "rb") as f:
      data = f.read()
    stream = create_InputStream(data)
    row = coder.get_impl().decode_from_stream(stream, False)
    check(stream.size() == 0, "rows-%d.bin has %d bytes left over" % (i, stream.size()))
    check_row(i, row, exp)
    # Python's own encoding of the decoded row is the bytes Java wrote (same wire format)
    check(coder.encode(row) == data, "rows-%d: Python re-encodes to other bytes" % i)
  with open(os.path.join(directory, "batch.arrow"), "rb") as f:
    check_batch(pa.ipc.open_stream(f.read()).read_all(), expected)

  constructor = coder.to_type_hint()
  for k in range(PY_ROWS):
    with open(os.path.join(directory, "py-rows-%d.bin" % k), "wb") as f:
      f.write(coder.encode(py_row(constructor, k)))
  write_py_batch(os.path.join(directory, "py-batch.arrow"))
  print("PYTHON INTEROP OK: %d rows and 1 batch read, %d rows and 1 batch written"
        % (len(expected["rows"]), PY_ROWS))


if __name__ == "__main__":
  main(sys.argv[1])
