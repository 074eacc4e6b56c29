#!/usr/bin/env python3
"""Reads a run's TensorBoard event files with TensorBoard's own reader (EventAccumulator) and prints what it holds.

    read-tensorboard.py FOLDER

Prints one JSON object: "scalars" {tag: [[step, value], …]}, "images" {tag: [[step, width, height], …]} and
"histograms" {tag: [[step, count], …]}, every event kept (no sampling), orphaned events of an interrupted run purged
as TensorBoard purges them. Needs tensorboard (.ci/run installs a pinned version into .build-venv).
"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main():
    accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0, "histograms": 0},
                                   purge_orphaned_data=True)
    accumulator.Reload()
    tags = accumulator.Tags()
    print(json.dumps({
        "scalars": {t: [[e.step, e.value] for e in accumulator.Scalars(t)] for t in tags["scalars"]},
        "images": {t: [[e.step, e.width, e.height] for e in accumulator.Images(t)] for t in tags["images"]},
        "histograms": {t: [[e.step, e.histogram_value.num] for e in accumulator.Histograms(t)]
                       for t in tags["histograms"]},
    }))


if __name__ == "__main__":
    main()
