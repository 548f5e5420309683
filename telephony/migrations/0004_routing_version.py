"""A version number of everything call routing reads, bumped by PostgreSQL itself on every change.

The ARI bridge caches routing lookups (callers, callees, company policies) and reads this one row per
call: a different version means something changed (through the ORM, a bulk update, or by hand in
psql) and the cache starts afresh. Triggers fire per statement, so a bulk write bumps it once."""

from django.db import migrations

TABLES = [
    "directory_company",
    "directory_user",
    "telephony_extension",
    "telephony_device",
    "telephony_callsettings",
    "telephony_forwardingrule",
    "telephony_barringrule",
    "telephony_speeddial",
    "telephony_phonenumber",
    "voicemail_mailbox",
]

CREATE = [
    """
    CREATE TABLE istra_routing_version (
        id smallint PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
    )
    """,
    "INSERT INTO istra_routing_version (id, version) VALUES (1, 1)",
    """
    CREATE FUNCTION istra_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE istra_routing_version SET version = version + 1 WHERE id = 1;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"CREATE TRIGGER istra_routing_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION istra_routing_changed()"
        for table in TABLES
    ),
]

DROP = [
    *(f"DROP TRIGGER IF EXISTS istra_routing_changed ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS istra_routing_changed()",
    "DROP TABLE IF EXISTS istra_routing_version",
]


class Migration(migrations.Migration):
    dependencies = [
        ("telephony", "0003_routing_engine"),
        ("directory", "0003_routing_engine"),
        ("voicemail", "0001_initial"),
    ]

    operations = [migrations.RunSQL(sql=CREATE, reverse_sql=DROP)]
