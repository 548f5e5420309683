"""The routing version is announced when it changes: `NOTIFY istra_routing, '<version>'`, delivered to
listeners when the transaction commits. The ARI bridge listens, so that a call no longer reads the
version row to know whether its routing cache is current (ari_bridge/directory.py)."""

from django.db import migrations

NOTIFYING = """
    CREATE OR REPLACE FUNCTION istra_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        current bigint;
    BEGIN
        UPDATE istra_routing_version SET version = version + 1 WHERE id = 1 RETURNING version INTO current;
        PERFORM pg_notify('istra_routing', current::text);
        RETURN NULL;
    END
    $$
"""

SILENT = """
    CREATE OR REPLACE FUNCTION istra_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE istra_routing_version SET version = version + 1 WHERE id = 1;
        RETURN NULL;
    END
    $$
"""


class Migration(migrations.Migration):
    dependencies = [("telephony", "0004_routing_version")]

    operations = [migrations.RunSQL(sql=NOTIFYING, reverse_sql=SILENT)]
