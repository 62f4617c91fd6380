"""The mutation run itself (tests/mutation/run.py), on a project of three files.

The project's one function decides whether an age may vote; one test checks
both sides of the edge (17 and 18), the other only an age far from it. The
strong test must kill every mutant of the edge, the weak one must let the
off-by-one mutants survive, and the run must say which, where, and how.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.mutation import run
from tests.mutation.mutants import mutants_of

SOURCE = textwrap.dedent(
    '''\
    """Voting."""

    VOTING_AGE = 18


    def can_vote(age):
        """Whether a person of this age may vote."""
        return age >= VOTING_AGE
    '''
)
GROUPS = textwrap.dedent(
    """\
    [strong]
    modules = ["voting/*.py"]
    tests = ["checks/test_strong.py"]

    [weak]
    modules = ["voting/*.py"]
    tests = ["checks/test_weak.py"]
    """
)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "voting").mkdir(parents=True)
    (root / "voting" / "__init__.py").write_text(SOURCE)
    (root / "checks").mkdir()
    (root / "checks" / "__init__.py").write_text("")
    (root / "checks" / "test_strong.py").write_text(
        "from voting import can_vote\n\n\n"
        "def test_the_voting_age_is_eighteen():\n"
        "    assert can_vote(18)\n"
        "    assert not can_vote(17)\n"
    )
    (root / "checks" / "test_weak.py").write_text(
        "from voting import can_vote\n\n\ndef test_an_adult_may_vote():\n    assert can_vote(40)\n"
    )
    (root / "groups.toml").write_text(GROUPS)
    (root / "equivalent.txt").write_text("")
    return root


def mutate(project: Path, *args: str) -> str:
    out = project.parent / "report.txt"
    code = run.main(
        [
            "--root",
            str(project),
            "--config",
            str(project / "groups.toml"),
            "--equivalent",
            str(project / "equivalent.txt"),
            "--report",
            str(out),
            *args,
        ]
    )
    assert code == 0
    return out.read_text()


def test_a_test_of_both_sides_of_an_edge_kills_every_mutant_of_it(project):
    report = mutate(project, "--group", "strong")
    assert "killed 4, timeout 0, survived 0, uncovered 0; score 100.0 %" in report
    assert "SURVIVED" not in report
    # the mutants ran in a copy: the project's own file is as it was
    assert (project / "voting" / "__init__.py").read_text() == SOURCE


def test_a_weak_test_leaves_the_off_by_one_mutants_alive_and_they_are_reported(project):
    report = mutate(project, "--group", "weak")
    assert "killed 1, timeout 0, survived 3, uncovered 0; score 25.0 %" in report
    # each survivor with its place and its diff
    assert "SURVIVED voting/__init__.py:8 " in report
    assert "-    return age >= VOTING_AGE\n+    return (age > VOTING_AGE)" in report
    assert "SURVIVED voting/__init__.py:3 " in report
    assert "+VOTING_AGE = 19" in report
    assert "+VOTING_AGE = 17" in report
    assert (project / "voting" / "__init__.py").read_text() == SOURCE


def test_a_mutant_listed_as_equivalent_is_left_out_of_the_score(project):
    lowered = next(m for m in mutants_of("voting/__init__.py", SOURCE) if m.replacement == "17")
    (project / "equivalent.txt").write_text(f"{lowered.id}  a reason, for this test\n")
    report = mutate(project, "--group", "weak")
    assert "1 equivalent left out" in report
    assert "+VOTING_AGE = 17" not in report
    assert "survived 2" in report


def test_an_equivalent_mutant_without_a_reason_is_refused(project):
    (project / "equivalent.txt").write_text("0123456789\n")
    with pytest.raises(SystemExit, match="needs its reason"):
        mutate(project, "--group", "weak")


def test_the_same_seed_samples_the_same_mutants(project, capsys):
    def listed(seed: str) -> str:
        mutate(project, "--group", "weak", "--list", "--sample", "2", "--seed", seed)
        return capsys.readouterr().out

    assert listed("3") == listed("3")
    assert len({listed(str(seed)) for seed in range(6)}) > 1


def test_a_mutant_changes_one_place_and_keeps_the_rest_of_the_file():
    for mutant in mutants_of("voting/__init__.py", SOURCE):
        mutated = mutant.apply(SOURCE)
        assert mutated != SOURCE
        assert mutated[: mutant.start] == SOURCE[: mutant.start]
        assert mutated.endswith(SOURCE[mutant.end :])
    # the docstrings are never mutated
    assert all('"""' not in m.original for m in mutants_of("voting/__init__.py", SOURCE))


def test_every_equivalent_mutant_of_the_project_still_exists_and_says_why():
    root = Path(__file__).resolve().parents[2]
    equivalent = run.read_equivalent(root / "tests" / "mutation" / "equivalent.txt")
    groups = run.read_groups(root / "tests" / "mutation" / "groups.toml")
    ids = {
        m.id
        for group in groups.values()
        for f in group.files(root)
        for m in mutants_of(f, (root / f).read_text())
    }
    assert all(group.files(root) for group in groups.values())
    stale = sorted(set(equivalent) - ids)
    assert not stale, f"equivalent.txt lists mutants the code no longer has: {stale}"
