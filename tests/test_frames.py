"""docs/protocol.md and reference/frames.py describe the same frames, in the same order."""

import re
from pathlib import Path

from reference import frames

PROTOCOL = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def documented_frame_types():
    section = PROTOCOL.read_text(encoding="utf-8").split("### Frames the server sends", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"^\| `([a-z.]+)` \|", section, flags=re.M)


def test_every_documented_frame_has_a_builder_and_every_builder_is_documented():
    documented = documented_frame_types()
    assert documented, "docs/protocol.md has no table of the frames the server sends"
    assert sorted(set(documented) - set(frames.BUILDERS)) == [], "documented, but built nowhere"
    assert sorted(set(frames.BUILDERS) - set(documented)) == [], "built, but not documented"
    assert documented == list(frames.BUILDERS), "frames.py and docs/protocol.md list them in another order"


def test_each_builder_makes_a_frame_of_its_own_type():
    for frame_type, builder in frames.BUILDERS.items():
        assert builder.__name__ == frame_type.replace(".", "_"), f"{frame_type} is built by {builder.__name__}"


def test_no_frame_dict_is_written_outside_frames_py():
    """One place builds a frame: a `"type": "…"` literal anywhere else in the server is a second one."""
    root = PROTOCOL.parent.parent
    offenders = []
    for package in ("reference", "chatserver", "widgets"):
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts or path.name in ("frames.py", "forms.py"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r'"type":\s*"', line):
                    offenders.append(f"{path.relative_to(root)}:{number}")
    assert offenders == []
