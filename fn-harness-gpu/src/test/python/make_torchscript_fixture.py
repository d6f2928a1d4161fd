#!/usr/bin/env python3
"""Writes a tiny TorchScript archive without PyTorch (Python 3 standard library only).

The model is a linear layer followed by an elementwise scale:

    forward(x) = (x @ weight.T + bias) * scale

`weight` (out x in) and `bias` (out) are module parameters, stored as tensors of the module
object in data.pkl; `scale` (out) is a tensor constant, stored in constants.pkl and read by the
code as CONSTANTS.c0. Inputs are float32 with `in` features in the last dimension.

The archive has the layout that torch.jit.save writes and libtorch's torch::jit::load reads
(caffe2/serialize/inline_container.cc, torch/csrc/jit/serialization/import.cpp):

    <name>/data.pkl            pickle (protocol 2) that builds the module object
    <name>/code/__torch__.py   the class __torch__.<Class>: attributes and forward, in TorchScript
    <name>/constants.pkl       pickle of the tuple of tensor constants (CONSTANTS.c<i>)
    <name>/data/<key>          raw little-endian storage of each tensor in data.pkl
    <name>/constants/<key>     raw storage of each tensor in constants.pkl
    <name>/version             file format version, decimal ASCII
    <name>/byteorder           "little"

Every entry is stored uncompressed, its data aligned to 64 bytes with an "FB" padding extra
field, as PyTorch's writer does. The pickles use only the opcodes libtorch's Unpickler accepts
(torch/csrc/jit/serialization/unpickler.cpp): a tensor is
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) whose storage
is a persistent id ("storage", torch.FloatStorage, key, "cpu", numel).

Usage:
    make_torchscript_fixture.py OUT.pt [--weight "1,2,3;4,5,6"] [--bias "0.5,-1"]
                                       [--scale "2,3"] [--version 3]
"""

import argparse
import io
import struct
import sys
import zipfile

CLASS_NAME = "TinyLinear"
ALIGNMENT = 64  # PyTorch's kFieldAlignment
LOCAL_HEADER_SIZE = 30


class Pickle:
    """Emits pickle protocol 2 opcodes, one method per construct the archive needs."""

    def __init__(self):
        self.out = io.BytesIO()
        self.out.write(b"\x80\x02")  # PROTO 2

    def op(self, code):
        self.out.write(code)
        return self

    def mark(self):
        return self.op(b"(")

    def tuple_from_mark(self):
        return self.op(b"t")

    def empty_tuple(self):
        return self.op(b")")

    def empty_dict(self):
        return self.op(b"}")

    def set_items(self):
        return self.op(b"u")

    def global_(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def new_obj(self):
        return self.op(b"\x81")

    def build(self):
        return self.op(b"b")

    def reduce(self):
        return self.op(b"R")

    def persistent_id(self):
        return self.op(b"Q")  # BINPERSID: the persistent id is the tuple on the stack

    def string(self, text):
        data = text.encode("utf-8")
        return self.op(b"X" + struct.pack("<I", len(data)) + data)  # BINUNICODE

    def int_(self, value):
        if 0 <= value < 256:
            return self.op(b"K" + struct.pack("<B", value))  # BININT1
        return self.op(b"J" + struct.pack("<i", value))  # BININT

    def bool_(self, value):
        return self.op(b"\x88" if value else b"\x89")

    def int_tuple(self, values):
        self.mark()
        for v in values:
            self.int_(v)
        return self.tuple_from_mark()

    def float_tensor(self, key, shape):
        """A contiguous float32 tensor whose storage is the record <archive>/<key>."""
        numel = 1
        for d in shape:
            numel *= d
        strides = []
        step = 1
        for d in reversed(shape):
            strides.insert(0, step)
            step *= d
        self.global_("torch._utils", "_rebuild_tensor_v2")
        self.mark()
        self.mark().string("storage").global_("torch", "FloatStorage").string(key)
        self.string("cpu").int_(numel).tuple_from_mark().persistent_id()
        self.int_(0)  # storage offset
        self.int_tuple(shape)
        self.int_tuple(strides)
        self.bool_(False)  # requires_grad: this is an inference fixture
        self.global_("collections", "OrderedDict").empty_tuple().reduce()  # backward hooks
        self.tuple_from_mark()
        return self.reduce()

    def bytes(self):
        return self.out.getvalue() + b"."  # STOP


def floats(values):
    return struct.pack("<%df" % len(values), *values)


def parse_vector(text):
    return [float(v) for v in text.split(",")]


def parse_matrix(text):
    rows = [parse_vector(r) for r in text.split(";")]
    if any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("weight rows differ in length: %r" % text)
    return rows


def module_code():
    # The form torch.jit.save prints: parameters listed, attributes typed, 2-space indents.
    return (
        "class {cls}(Module):\n"
        "  __parameters__ = [\"weight\", \"bias\", ]\n"
        "  __buffers__ = []\n"
        "  weight : Tensor\n"
        "  bias : Tensor\n"
        "  training : bool\n"
        "  def forward(self: __torch__.{cls},\n"
        "    x: Tensor) -> Tensor:\n"
        "    weight = self.weight\n"
        "    bias = self.bias\n"
        "    y = torch.linear(x, weight, bias)\n"
        "    return torch.mul(y, CONSTANTS.c0)\n"
    ).format(cls=CLASS_NAME)


def module_pickle(out_features, in_features):
    p = Pickle()
    p.global_("__torch__", CLASS_NAME).empty_tuple().new_obj()
    p.empty_dict().mark()
    p.string("weight").float_tensor("0", [out_features, in_features])
    p.string("bias").float_tensor("1", [out_features])
    p.string("training").bool_(False)
    p.set_items().build()
    return p.bytes()


def constants_pickle(out_features):
    p = Pickle()
    p.mark()
    p.float_tensor("0", [out_features])
    p.tuple_from_mark()
    return p.bytes()


def write_aligned(archive, file, name, data):
    """Adds a stored entry whose data starts at a multiple of ALIGNMENT in the file."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = file.tell() + LOCAL_HEADER_SIZE + len(name.encode()) + 4
    padding = (-start) % ALIGNMENT
    info.extra = b"FB" + struct.pack("<H", padding) + b"Z" * padding
    archive.writestr(info, data)


def write_archive(path, weight, bias, scale, version):
    out_features = len(weight)
    in_features = len(weight[0])
    if len(bias) != out_features or len(scale) != out_features:
        raise ValueError(
            "bias (%d) and scale (%d) need one value per output (%d)"
            % (len(bias), len(scale), out_features))
    name = path.rsplit("/", 1)[-1]
    name = name[:-3] if name.endswith(".pt") else name
    records = [
        ("data.pkl", module_pickle(out_features, in_features)),
        ("code/__torch__.py", module_code().encode()),
        ("constants.pkl", constants_pickle(out_features)),
        ("data/0", floats([v for row in weight for v in row])),
        ("data/1", floats(bias)),
        ("constants/0", floats(scale)),
        ("version", ("%d\n" % version).encode()),
        ("byteorder", b"little"),
    ]
    with open(path, "wb") as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
            for record, data in records:
                write_aligned(archive, file, name + "/" + record, data)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="the .pt file to write")
    parser.add_argument("--weight", default="1,2,3;-1,0.5,0.25",
                        help="rows (outputs) separated by ';', columns (inputs) by ','")
    parser.add_argument("--bias", default="0.5,-1")
    parser.add_argument("--scale", default="2,3")
    parser.add_argument("--version", type=int, default=3,
                        help="file format version; libtorch reads 1..its maximum")
    args = parser.parse_args(argv)
    write_archive(args.out, parse_matrix(args.weight), parse_vector(args.bias),
                  parse_vector(args.scale), args.version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
