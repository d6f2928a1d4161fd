"""A Beam Python pipeline for ainative's job server: GroupByKey/Combine, a side input and
windowing, each checked with assert_that. Exits non-zero if the job fails.

Usage: python wordcount_on_job_server.py JOB_ENDPOINT [--expect-wrong] [--environment_type=T
       --environment_config=C]   (default: LOOPBACK) [other pipeline options, passed on]
(--expect-wrong runs only the counting branch and asserts a wrong result on purpose, so the
caller can check a failing assertion reaches the Python user as an error.)
"""
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window


def main(argv):
    endpoint = argv[1]
    expect_wrong = "--expect-wrong" in argv
    environment = [a for a in argv[2:] if a.startswith("--environment_")] or ["--environment_type=LOOPBACK"]
    passed_on = [a for a in argv[2:] if a.startswith("--") and a != "--expect-wrong" and not a.startswith("--environment_")]
    options = PipelineOptions([
        "--runner=PortableRunner",
        "--job_endpoint=" + endpoint,
    ] + environment + [
        "--parallelism=1",
        # A test's failure is deterministic: fail at once instead of restarting with back-off
        # (an option of the runner's, which the job server describes to the Python SDK).
        "--number_of_execution_retries=0",
    ] + passed_on)
    build(beam.Pipeline(options=options), expect_wrong)
    print("PYTHON PIPELINE OK")


def stamp(event):
    # Imported here: a worker in another process (EXTERNAL, PROCESS) has not run this module.
    from apache_beam.transforms.window import TimestampedValue
    return TimestampedValue((event[0], event[1]), event[2])


def build(pipeline, expect_wrong):
    with pipeline as p:
        words = (p | "Lines" >> beam.Create(["a b", "b c", "c a b", "dd"])
                   | "Split" >> beam.FlatMap(str.split))
        counts = words | "Count" >> beam.combiners.Count.PerElement()
        expected = [("a", 2), ("b", 3), ("c", 2), ("dd", 1)]
        if expect_wrong:
            expected = [("a", 2), ("b", 4), ("c", 2), ("dd", 1)]
        assert_that(counts, equal_to(expected), label="CheckCounts")
        if expect_wrong:
            return

        total = beam.pvalue.AsSingleton(
            words | "Lengths" >> beam.Map(len) | "Total" >> beam.CombineGlobally(sum))
        with_side = (p | "More" >> beam.Create(["x", "y"])
                       | "UseSide" >> beam.Map(lambda x, t: "%s:%d" % (x, t), total))
        assert_that(with_side, equal_to(["x:9", "y:9"]), label="CheckSideInput")

        sums = (p | "Events" >> beam.Create([("k", 1, 10), ("k", 2, 50), ("k", 4, 70)])
                  | "Stamp" >> beam.Map(stamp)
                  | "Minutes" >> beam.WindowInto(window.FixedWindows(60))
                  | "SumPerWindow" >> beam.CombinePerKey(sum))
        assert_that(sums, equal_to([("k", 3), ("k", 4)]), label="CheckWindows")


if __name__ == "__main__":
    main(sys.argv)
