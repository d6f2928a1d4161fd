"""ainative's multimodal logical types for Beam Python, in pure Python.

Beam Python's RowCoder refuses a schema field whose logical type URN it has no class for
("No logical type registered for URN ..."), even though the portable schema carries the
representation. Importing this module registers the five ainative URNs, so a Python pipeline
reads and writes rows that Java pipelines (or the ainative runner) produce, without any Java:

    import ainative_multimodal.logical_types  # registers the types
    coder = apache_beam.coders.RowCoder(schema_proto)

Values in Python (the Java classes' counterparts):

    tensor      numpy.ndarray (dtype bool, uint8, int8, int16, int32, int64, float16, float32,
                float64; the wire bytes are row-major little-endian)
    image       Image(format: 'png' | 'jpeg', data: bytes)      (encoded file, not decoded)
    audio       Audio(sample_rate: int, samples: float32 ndarray [frames, channels])
    embedding   Embedding(values: float32 ndarray [dim], model_id: str | None)
    object_ref  ObjectRef(job_id, sha256: bytes, size, value_type, location)

Each representation is the base row documented in multimodal-coders/README.md.
"""

import typing

import numpy as np
from apache_beam.typehints.schemas import LogicalType

TENSOR_URN = "beam:logical_type:ainative:tensor:v1"
IMAGE_URN = "beam:logical_type:ainative:image:v1"
AUDIO_URN = "beam:logical_type:ainative:audio:v1"
EMBEDDING_URN = "beam:logical_type:ainative:embedding:v1"
OBJECT_REF_URN = "beam:logical_type:ainative:object_ref:v1"

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")


class TensorRow(typing.NamedTuple):
  dtype: str
  shape: typing.Sequence[np.int64]
  data: bytes


class Image(typing.NamedTuple):
  format: str
  data: bytes


class AudioRow(typing.NamedTuple):
  sample_rate: np.int32
  channels: np.int32
  samples: bytes


class Audio(typing.NamedTuple):
  sample_rate: int
  samples: np.ndarray


class EmbeddingRow(typing.NamedTuple):
  values: typing.Sequence[np.float32]
  model_id: typing.Optional[str]


class Embedding(typing.NamedTuple):
  values: np.ndarray
  model_id: typing.Optional[str] = None


class ObjectRef(typing.NamedTuple):
  job_id: str
  sha256: bytes
  size: np.int64
  value_type: str
  location: str


def _parse_tensor_argument(argument):
  """'' -> (None, None); 'float32[2,3]' -> ('float32', (2, 3))."""
  if not argument:
    return None, None
  open_at = argument.find("[")
  if open_at <= 0 or not argument.endswith("]"):
    raise ValueError("tensor type argument %r is not dtype[d0,d1,...]" % argument)
  dtype = argument[:open_at]
  if dtype not in DTYPES:
    raise ValueError("tensor type argument %r has unknown dtype %r" % (argument, dtype))
  dims = argument[open_at + 1:-1]
  shape = tuple(int(d) for d in dims.split(",")) if dims else ()
  return dtype, shape


@LogicalType.register_logical_type
class TensorType(LogicalType):
  """A tensor column; argument '' (any dtype and shape) or 'dtype[d0,...]' (fixed)."""

  def __init__(self, argument=""):
    self._argument = argument or ""
    self._dtype, self._shape = _parse_tensor_argument(self._argument)

  @classmethod
  def urn(cls):
    return TENSOR_URN

  @classmethod
  def language_type(cls):
    return np.ndarray

  @classmethod
  def representation_type(cls):
    return TensorRow

  @classmethod
  def argument_type(cls):
    return str

  def argument(self):
    return self._argument

  @classmethod
  def _from_typing(cls, typ):
    return cls("")

  def _check(self, dtype, shape):
    if self._dtype is not None and (dtype != self._dtype or tuple(shape) != self._shape):
      raise ValueError(
          "tensor %s%s does not match the column type %s" % (dtype, list(shape), self._argument))

  def to_representation_type(self, value):
    array = np.asarray(value)
    name = array.dtype.name
    if name not in DTYPES:
      raise ValueError("tensor dtype %s is not one of %s" % (name, DTYPES))
    self._check(name, array.shape)
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return TensorRow(name, [int(d) for d in array.shape], little.tobytes())

  def to_language_type(self, value):
    if value.dtype not in DTYPES:
      raise ValueError("tensor.dtype %r is not one of %s" % (value.dtype, DTYPES))
    shape = tuple(int(d) for d in value.shape)
    for i, d in enumerate(shape):
      if d < 0:
        raise ValueError("tensor.shape[%d] = %d is negative" % (i, d))
    dtype = np.dtype(value.dtype).newbyteorder("<")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(value.data) != expected:
      raise ValueError(
          "tensor.data has %d bytes, shape %s x %s needs %d"
          % (len(value.data), list(shape), value.dtype, expected))
    self._check(value.dtype, shape)
    return np.frombuffer(value.data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


@LogicalType.register_logical_type
class ImageType(LogicalType):
  """An encoded PNG or JPEG image, kept encoded."""

  @classmethod
  def urn(cls):
    return IMAGE_URN

  @classmethod
  def language_type(cls):
    return Image

  @classmethod
  def representation_type(cls):
    return Image

  @classmethod
  def argument_type(cls):
    return None

  def argument(self):
    return None

  @classmethod
  def _from_typing(cls, typ):
    return cls()

  def to_representation_type(self, value):
    if value.format not in ("png", "jpeg"):
      raise ValueError("image.format %r is not png or jpeg" % (value.format,))
    return Image(value.format, bytes(value.data))

  def to_language_type(self, value):
    return Image(value.format, value.data)


@LogicalType.register_logical_type
class AudioType(LogicalType):
  """float32 PCM, interleaved; samples as a [frames, channels] array."""

  @classmethod
  def urn(cls):
    return AUDIO_URN

  @classmethod
  def language_type(cls):
    return Audio

  @classmethod
  def representation_type(cls):
    return AudioRow

  @classmethod
  def argument_type(cls):
    return None

  def argument(self):
    return None

  @classmethod
  def _from_typing(cls, typ):
    return cls()

  def to_representation_type(self, value):
    samples = np.asarray(value.samples, dtype="<f4")
    if samples.ndim != 2:
      raise ValueError("audio samples must be [frames, channels], got shape %s" % (samples.shape,))
    return AudioRow(
        int(value.sample_rate), int(samples.shape[1]), np.ascontiguousarray(samples).tobytes())

  def to_language_type(self, value):
    if value.channels < 1 or len(value.samples) % (4 * value.channels) != 0:
      raise ValueError(
          "audio samples has %d bytes, not whole float32 frames of %d channels"
          % (len(value.samples), value.channels))
    samples = np.frombuffer(value.samples, dtype="<f4").reshape(-1, value.channels)
    return Audio(int(value.sample_rate), samples.astype(np.float32))


@LogicalType.register_logical_type
class EmbeddingType(LogicalType):
  """A float32 vector; argument: its dimension, 0 for any."""

  def __init__(self, dimension=0):
    self._dimension = int(dimension or 0)

  @classmethod
  def urn(cls):
    return EMBEDDING_URN

  @classmethod
  def language_type(cls):
    return Embedding

  @classmethod
  def representation_type(cls):
    return EmbeddingRow

  @classmethod
  def argument_type(cls):
    return np.int32

  def argument(self):
    return self._dimension

  @classmethod
  def _from_typing(cls, typ):
    return cls(0)

  def _check(self, n):
    if n < 1 or (self._dimension and n != self._dimension):
      raise ValueError(
          "embedding has %d values, the column needs %s"
          % (n, self._dimension or ">= 1"))

  def to_representation_type(self, value):
    values = np.asarray(value.values, dtype=np.float32).reshape(-1)
    self._check(values.shape[0])
    return EmbeddingRow([float(v) for v in values], value.model_id)

  def to_language_type(self, value):
    values = np.asarray(list(value.values), dtype=np.float32)
    self._check(values.shape[0])
    return Embedding(values, value.model_id)


@LogicalType.register_logical_type
class ObjectRefType(LogicalType):
  """A reference to a value stored once in an ainative object store."""

  @classmethod
  def urn(cls):
    return OBJECT_REF_URN

  @classmethod
  def language_type(cls):
    return ObjectRef

  @classmethod
  def representation_type(cls):
    return ObjectRef

  @classmethod
  def argument_type(cls):
    return None

  def argument(self):
    return None

  @classmethod
  def _from_typing(cls, typ):
    return cls()

  def to_representation_type(self, value):
    if len(value.sha256) != 32:
      raise ValueError("object_ref.sha256 has %d bytes, not 32" % len(value.sha256))
    return ObjectRef(*value)

  def to_language_type(self, value):
    if len(value.sha256) != 32:
      raise ValueError("object_ref.sha256 has %d bytes, not 32" % len(value.sha256))
    return ObjectRef(
        value.job_id, value.sha256, int(value.size), value.value_type, value.location)
