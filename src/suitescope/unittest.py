"""`python -m suitescope.unittest [unittest's arguments]`: `python -m unittest`, recording the run.

For a script of your own: `suitescope.unittest.TextTestRunner` is unittest's runner with recording, and
`RecordingResult` the mixin that adds recording to a result class (docs/unittest.md).
"""

from suitescope.collector.unittest_result import RecordingResult, recording_result
from suitescope.collector.unittest_runner import TextTestRunner, main

__all__ = ["RecordingResult", "TextTestRunner", "main", "recording_result"]

if __name__ == "__main__":
    main()
