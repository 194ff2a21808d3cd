"""The rolled-back test itself (tests/conftest.py): a request in it runs as the app role, commits
with COMMIT's checks, and leaves neither its role nor its settings behind; what would need real
commits is refused loudly."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import APP_ROLE, login

# An erp.* setting never set on a connection reads NULL, once set and gone '' (as on a pooled connection).
SETTINGS = ("SELECT current_user, coalesce(current_setting('erp.staff_id', true), ''), "
            "coalesce(current_setting('erp.branch_id', true), ''), coalesce(current_setting('erp.all_branches', true), ''), "
            "current_setting('lock_timeout'), current_setting('statement_timeout')")


def state(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(sa.text(SETTINGS)).one())


def test_a_request_runs_as_the_app_role_and_leaves_no_role_or_setting_behind(app, engine, make_staff):
    from webapp.db import close_request, commit_request, get_conn, set_actor

    before = state(engine)
    assert before[0] != APP_ROLE
    _, code, pin = make_staff("ISO1", "ADMIN")
    client = app.test_client()
    assert login(client, code, pin).status_code == 303
    assert client.get("/").status_code == 200  # a logged-in request sets erp.staff_id, erp.branch_id...
    assert state(engine) == before
    with app.test_request_context("/"):
        conn = get_conn()
        set_actor(conn, 1, "127.0.0.1", branch_id=1, all_branches=True)
        inside = tuple(conn.execute(sa.text(SETTINGS)).one())
        commit_request()
        close_request()
    assert inside[0] == APP_ROLE and inside[1:4] == ("1", "1", "on") and inside[4] != before[4]
    assert state(engine) == before


def test_a_deferred_check_fails_the_request_at_its_commit(app, engine):
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE public.isolation_probe (n int)"))
        conn.execute(sa.text("""CREATE FUNCTION public.isolation_refuse() RETURNS trigger LANGUAGE plpgsql
                                AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"""))
        conn.execute(sa.text("""CREATE CONSTRAINT TRIGGER isolation_refuse AFTER INSERT ON public.isolation_probe
                                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.isolation_refuse()"""))
    # Inserting is fine until the commit.
    with pytest.raises(sa.exc.DBAPIError, match="refused at commit"):
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO public.isolation_probe VALUES (1)"))
            assert conn.execute(sa.text("SELECT count(*) FROM public.isolation_probe")).scalar() == 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM public.isolation_probe")).scalar() == 0
        # And the trigger is deferred again for the next transaction.
        deferred = conn.execute(sa.text("SELECT tgdeferrable AND tginitdeferred FROM pg_trigger "
                                        "WHERE tgname = 'isolation_refuse'")).scalar()
        assert deferred


def test_what_needs_real_commits_is_refused_loudly(app, engine, owner_engine):
    with pytest.raises(RuntimeError, match="mark it @pytest.mark.commits"):
        owner_engine.connect()
    with pytest.raises(AttributeError, match="mark it @pytest.mark.commits"):
        engine.url  # noqa: B018
    with pytest.raises(sa.exc.InvalidRequestError):
        sa.event.listen(app.extensions["erp_db"].engine, "before_cursor_execute", lambda *a: None)
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
        with pytest.raises(RuntimeError, match="another connection's transaction is open"):
            with engine.begin():
                pass


@pytest.mark.commits
def test_a_test_marked_commits_gets_the_real_engines(app, engine, owner_engine):
    assert engine is owner_engine
    assert app.extensions["erp_db"].engine_override is None
