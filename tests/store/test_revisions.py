"""The schema check without Alembic: the same answers as Alembic, and Alembic
loaded only when there is something to upgrade."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from calsync_desktop.store import (
    Store,
    current_revision,
    head_revision,
    known_revisions,
    migrate,
)
from calsync_desktop.store.revisions import (
    MIGRATIONS,
    VERSIONS,
    head_from_scripts,
    script_chain,
    stamped_revisions,
)

ROOT = Path(__file__).resolve().parents[2]


def alembic_scripts(location: Path = MIGRATIONS) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(location))
    return ScriptDirectory.from_config(config)


def test_the_scripts_read_as_text_give_alembics_chain_and_head():
    scripts = alembic_scripts()
    chain = script_chain()
    assert chain == {s.revision: s.down_revision for s in scripts.walk_revisions()}
    assert head_from_scripts() == scripts.get_current_head() == head_revision()


def test_a_script_in_another_form_leaves_the_answer_to_alembic(tmp_path):
    location = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, location)
    head = alembic_scripts().get_current_head()
    # a merge revision: two parents in a tuple, as `alembic merge` writes it
    (location / "versions" / "9999_merge.py").write_text(
        textwrap.dedent(
            f'''\
            """merge"""
            revision = "9999"
            down_revision = ("{head}", "{head}")
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
                pass
            '''
        )
    )
    assert script_chain(location / "versions") is None
    assert head_from_scripts(location / "versions") is None
    assert head_from_scripts(VERSIONS) == head


def test_two_heads_are_not_guessed_between(tmp_path):
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, down in (("a1", None), ("b1", '"a1"'), ("c1", '"a1"')):
        (versions / f"{name}.py").write_text(
            f'revision = "{name}"\ndown_revision = {down or "None"}\n'
        )
    assert script_chain(versions) == {"a1": None, "b1": "a1", "c1": "a1"}
    assert head_from_scripts(versions) is None


def test_stamped_revisions_of_a_new_a_partial_and_a_current_database(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'cal.sqlite3'}")
    with engine.connect() as conn:
        assert stamped_revisions(conn) == ()
    migrate(engine, None, revision="0001")
    with engine.connect() as conn:
        assert stamped_revisions(conn) == ("0001",)
    migrate(engine, None)
    with engine.connect() as conn:
        assert stamped_revisions(conn) == (head_revision(),)
    engine.dispose()


def test_current_and_known_revisions_as_alembic_says(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'cal.sqlite3'}")
    for step in (None, "0001", "head"):
        if step is not None:
            migrate(engine, None, revision=step)
        with engine.connect() as conn:
            assert current_revision(conn) == MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    assert known_revisions() == {s.revision for s in alembic_scripts().walk_revisions()}


def _modules_after_opening(path: Path) -> set[str]:
    code = (
        "import sys; from calsync_desktop.store import Store; "
        f"Store.open({str(path)!r}).close(); print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return {name.split(".")[0] for name in out.stdout.split()}


def test_opening_a_current_sales_calendar_does_not_load_alembic(tmp_path):
    path = tmp_path / "cal.sqlite3"
    assert "alembic" in _modules_after_opening(path)  # created: migrated by Alembic
    assert "alembic" not in _modules_after_opening(path)  # current: checked without it


def test_an_old_sales_calendar_is_still_upgraded(tmp_path):
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, path, revision="0001")
    engine.dispose()
    assert "alembic" in _modules_after_opening(path)
    store = Store.open(path)
    with store.engine.connect() as conn:
        assert stamped_revisions(conn) == (head_revision(),)
    store.close()
