"""sql/schema.sql and sql/functions/ say what the database is.

- The committed snapshot (sql/schema.sql, `make schema`) is what a fresh init-db makes.
- The function files define every function, trigger and view of the app's schemas, each once
  (the audit triggers excepted: audit.track() makes them, called by the numbered file of each
  table).
- On a database built by the numbered files alone (every showroom's database before the
  function files existed), the function files change nothing but the definitions a fix changed
  on purpose, listed in CHANGED_BY_FUNCTION_FILES. A function or trigger that no numbered file
  makes (new since the function files exist, e.g. finance's) is defined in its function file alone.
"""
from __future__ import annotations

import difflib
import shutil
from contextlib import ExitStack

import pytest
import sqlalchemy as sa

from tools.schema_snapshot import SNAPSHOT, migrated_schema, server_major, snapshot_major
from webapp import migrations
from webapp.db import scratch_database, sqlalchemy_url

# A fix made in sql/functions/ changes a definition on purpose: name it here (its identity as
# pg_identify_object prints it, e.g. "billing.post_invoice()", "invoice_post on billing.invoice",
# "billing.receivable"), so the review sees it was meant. Empty: the function files hold exactly
# the last definition each numbered file gave.
CHANGED_BY_FUNCTION_FILES: set[str] = {
    # A booked or lost lead keeps its details (sql/functions/93_crm.sql, the lead's edit screen).
    "crm.check_lead_change()",
    # Service invoices and job sheets (sql/0025_service_invoice.sql): their series, lines, balance and gate.
    "billing.post_invoice()", "billing.check_invoice_lines()",
    "billing.post_invoice_line()", "billing.post_credit_note()", "billing.refuse_transfer_credit_note()",
    "billing.counter_balance", "billing.keep_invoice_balance(integer)", "invoice_balance_kept on billing.invoice",
    "billing.receivable",
    # Extended plans sold on invoice lines; a claim's campaign covers its VIN (sql/0032, sql/0033).
    "warranty.plan_for(pg_catalog.text,pg_catalog.text)", "warranty.check_plan_sale()", "warranty.check_claim()",
    # The battery warranty reminder follows a replaced pack's own term (sql/functions/94_communication.sql).
    "communication.due_events(pg_catalog.date,integer,pg_catalog.text[])",
}

# Every object of the schemas the migrations own (not public, not the catalogs), by identity.
APP_SCHEMAS = """SELECT oid FROM pg_namespace
                  WHERE pg_get_userbyid(nspowner) = current_user AND nspname <> 'public'
                    AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"""
DEFINITIONS = f"""
SELECT 'function', (pg_identify_object('pg_proc'::regclass, p.oid, 0)).identity,
       concat_ws(E'\\n', pg_get_functiondef(p.oid), pg_get_userbyid(p.proowner), p.proacl::text)
  FROM pg_proc p WHERE p.pronamespace IN ({APP_SCHEMAS})
   AND NOT EXISTS (SELECT 1 FROM pg_depend d  -- the constructors of a range type are the type's
                    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i')
UNION ALL
SELECT 'trigger', (pg_identify_object('pg_trigger'::regclass, t.oid, 0)).identity,
       concat_ws(E'\\n', pg_get_triggerdef(t.oid, true), t.tgenabled::text)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace IN ({APP_SCHEMAS}) AND NOT t.tgisinternal AND t.tgname <> 'audit_log_change'
UNION ALL
SELECT 'view', (pg_identify_object('pg_class'::regclass, c.oid, 0)).identity,
       concat_ws(E'\\n', pg_get_viewdef(c.oid, true), pg_get_userbyid(c.relowner), c.relacl::text,
                 c.reloptions::text)
  FROM pg_class c WHERE c.relkind IN ('v', 'm') AND c.relnamespace IN ({APP_SCHEMAS})
"""


@pytest.fixture
def migrated(pg_server_url):
    """Migrate a scratch database with the files of a sql/ folder; returns an engine on it."""
    engines = []

    def build(sql_dir=migrations.SQL_DIR, prefix="erp_snapshot"):
        url = stack.enter_context(scratch_database(pg_server_url, prefix))
        engines.append(sa.create_engine(sqlalchemy_url(url)))
        migrations.apply_pending(engines[-1], sql_dir)
        return engines[-1]

    with ExitStack() as stack:
        yield build
        for engine in engines:
            engine.dispose()


def definitions(engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {(kind, identity): text for kind, identity, text in conn.execute(sa.text(DEFINITIONS))}


def test_the_committed_schema_snapshot_is_what_the_sql_files_make(pg_server_url):
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    major = server_major(pg_server_url)
    if committed and snapshot_major(committed) != major:
        pytest.skip(f"sql/schema.sql is pg_dump of PostgreSQL {snapshot_major(committed)}'s output; "
                    f"this server is PostgreSQL {major}, whose pg_dump prints some things differently")
    made = migrated_schema(pg_server_url)
    if made != committed:
        diff = difflib.unified_diff(committed.splitlines(), made.splitlines(),
                                    "sql/schema.sql (committed)", "what sql/ makes now", lineterm="", n=2)
        lines = list(diff)
        shown = "\n".join(lines[:150]) + (f"\n... {len(lines) - 150} more lines" if len(lines) > 150 else "")
        pytest.fail("sql/schema.sql is not what the sql/ files make: run `make schema` and commit it "
                    f"(review the difference first).\n{shown}", pytrace=False)


def test_the_function_files_define_every_function_trigger_and_view_once(migrated):
    engine = migrated()
    with engine.connect() as conn:
        if not conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            pytest.skip("recording what the function files define needs an event trigger (a superuser)")
    with engine.begin() as conn:
        conn.execute(sa.text("""
            CREATE TABLE public.defined (kind text, identity text);
            CREATE FUNCTION public.record_defined() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO public.defined
                SELECT lower(object_type), object_identity FROM pg_event_trigger_ddl_commands()
                 WHERE command_tag LIKE 'CREATE %' AND object_type IN ('function', 'trigger', 'view');
            END $$;
            CREATE EVENT TRIGGER record_defined ON ddl_command_end EXECUTE FUNCTION public.record_defined();
            DELETE FROM platform.schema_function_file;"""))
    try:
        assert migrations.apply_pending(engine) == [f.filename for f in migrations.function_files()]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP EVENT TRIGGER record_defined"))
    with engine.connect() as conn:
        defined = [tuple(r) for r in conn.execute(sa.text("SELECT kind, identity FROM public.defined"))]
    # CREATE OR REPLACE VIEW of a view that exists reports it twice (the view, then its new query).
    twice = sorted({d for d in defined if defined.count(d) > (2 if d[0] == "view" else 1)})
    assert twice == [], "defined more than once in sql/functions/"
    missing = sorted(set(definitions(engine)) - set(defined))
    assert missing == [], "in the database but in no file of sql/functions/ (copy its last definition there)"


def test_on_a_database_the_numbered_files_made_the_function_files_change_only_what_was_fixed(migrated, tmp_path):
    before_function_files = tmp_path / "sql"
    shutil.copytree(migrations.SQL_DIR, before_function_files)
    shutil.rmtree(before_function_files / migrations.FUNCTIONS)
    old = definitions(migrated(before_function_files, "erp_numbered_only"))
    new = definitions(migrated())
    assert old and new
    # What only the function files make (a module's functions since sql/0041) is defined there alone.
    changed = {identity for (kind, identity) in old.keys() if old[(kind, identity)] != new.get((kind, identity))}
    assert changed == CHANGED_BY_FUNCTION_FILES, (
        "the function files define these differently from the numbered files: if that is a fix, name it "
        "in CHANGED_BY_FUNCTION_FILES; if not, copy the definition from the last numbered file that made it")
