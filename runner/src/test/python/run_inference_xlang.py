"""A Beam Python pipeline that classifies images with ainative's RunInference, cross-language,
on ainative's job server. Run by PythonXlangITCase (not on its own).

Usage: run_inference_xlang.py JOB_ENDPOINT EXPANSION_ENDPOINT IMAGES_DIR MODEL_DIR ARCHITECTURE

IMAGES_DIR holds, per generated image, ID_LABEL.png (or .jpg) and ID_LABEL.f32 (its pixels as
raw float32, 1 x 32 x 32), and BAD_ID.png files that are not images. Three RunInference
transforms run in one job:
  - image_classifier on (id, encoded image) pairs, with the failure output: every good image has
    exactly one result, a label with its probabilities, accuracy >= MIN_ACCURACY; every bad file
    is in the failures, at step pre-process;
  - float32_tensor (RunInferenceOnTensors, numpy in and out) on (id, pixels): same accuracy;
  - image_classifier on the encoded images alone (no key): one result per image, and the
    predicted labels' histogram close to the true one.
Prints "ACCURACY <correct> <total>" per keyed check; exits non-zero if the job fails.
"""
import collections
import os
import sys
import typing

import numpy as np

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import BeamAssertException, assert_that

import ainative_beam

MIN_ACCURACY = 0.95


def read_inputs(images_dir):
  images, tensors, labels, bad = [], [], {}, []
  for name in sorted(os.listdir(images_dir)):
    stem, ext = os.path.splitext(name)
    with open(os.path.join(images_dir, name), "rb") as f:
      data = f.read()
    if stem.startswith("bad"):
      bad.append(stem)
      images.append((stem, data))
      continue
    image_id, label = stem.split("_")
    labels[image_id] = int(label)
    if ext == ".f32":
      tensors.append((image_id, np.frombuffer(data, dtype="<f4").reshape(1, 32, 32)))
    else:
      images.append((image_id, data))
  return images, tensors, labels, bad


def check_accuracy(what, labels, predicted_label):
  def check(results):
    seen = collections.Counter(key for key, _ in results)
    duplicates = [k for k, n in seen.items() if n > 1]
    if duplicates:
      raise BeamAssertException("%s: results for %s more than once" % (what, duplicates[:5]))
    missing = sorted(set(labels) - set(seen))
    if missing:
      raise BeamAssertException("%s: no result for %d images, e.g. %s" % (what, len(missing), missing[:5]))
    correct = sum(1 for key, value in results if predicted_label(value) == labels[key])
    print("ACCURACY %s %d %d" % (what, correct, len(results)), flush=True)
    if correct < MIN_ACCURACY * len(labels):
      raise BeamAssertException("%s: accuracy %d/%d is below %.2f" % (what, correct, len(labels), MIN_ACCURACY))
  return check


def check_rows(results):
  for key, row in results:
    p = list(row.probabilities)
    if len(p) != 3 or abs(sum(p) - 1.0) > 1e-4:
      raise BeamAssertException("image %s: probabilities %s are not 3 summing to 1" % (key, p))
    if int(np.argmax(p)) != row.label or abs(p[row.label] - row.score) > 1e-6:
      raise BeamAssertException("image %s: label %s / score %s do not match %s" % (key, row.label, row.score, p))


def check_failures(bad):
  def check(failures):
    ids = sorted(key for key, _ in failures)
    if ids != sorted(bad):
      raise BeamAssertException("failures %s, expected %s" % (ids, sorted(bad)))
    for key, row in failures:
      if row.step != "pre-process" or "not an image" not in row.error or not row.input:
        raise BeamAssertException("failure of %s: %s" % (key, row))
    print("FAILURES %s" % ids, flush=True)
  return check


def check_histogram(labels):
  def check(rows):
    if len(rows) != len(labels):
      raise BeamAssertException("unkeyed: %d results for %d images" % (len(rows), len(labels)))
    predicted = collections.Counter(row.label for row in rows)
    actual = collections.Counter(labels.values())
    for label in range(3):
      if abs(predicted[label] - actual[label]) > (1 - MIN_ACCURACY) * len(labels):
        raise BeamAssertException("unkeyed: predicted %s, actual %s" % (dict(predicted), dict(actual)))
    print("UNKEYED %d" % len(rows), flush=True)
  return check


def main(argv):
  job_endpoint, expansion, images_dir, model_dir, architecture = argv[1:6]
  images, tensors, labels, bad = read_inputs(images_dir)
  options = PipelineOptions([
      "--runner=PortableRunner",
      "--job_endpoint=" + job_endpoint,
      "--environment_type=LOOPBACK",
      "--parallelism=1",
      "--number_of_execution_retries=0",
  ])
  common = dict(model_uri=model_dir, model_name="shapes", architecture=architecture,
                expansion_service=expansion, max_batch_size=32, max_batching_delay_ms=5,
                instances=1)
  with beam.Pipeline(options=options) as p:
    keyed_images = p | "Images" >> beam.Create(images).with_output_types(typing.Tuple[str, bytes])
    classified = keyed_images | "Classify" >> ainative_beam.RunInference(
        processor="image_classifier", image_size=(32, 32), image_channels=1,
        with_failures=True, **common)
    assert_that(classified["output"], check_accuracy("images", labels, lambda row: row.label),
                label="CheckImages")
    assert_that(classified["output"], check_rows, label="CheckRows")
    assert_that(classified["failures"], check_failures(bad), label="CheckFailures")

    arrays = (p | "Tensors" >> beam.Create(tensors).with_output_types(typing.Tuple[str, np.ndarray])
                | "OnTensors" >> ainative_beam.RunInferenceOnTensors(
                    tensor_shape=(1, 32, 32), keyed=True, **common))
    assert_that(arrays, check_accuracy("tensors", labels, lambda a: int(np.argmax(a))),
                label="CheckTensors")

    unkeyed = (p | "Unkeyed" >> beam.Create([data for key, data in images if key in labels])
                     .with_output_types(bytes)
                 | "ClassifyUnkeyed" >> ainative_beam.RunInference(
                     processor="image_classifier", image_size=(32, 32), image_channels=1,
                     **common))
    assert_that(unkeyed, check_histogram(labels), label="CheckUnkeyed")
  print("PYTHON XLANG PIPELINE OK", flush=True)


if __name__ == "__main__":
  main(sys.argv)
