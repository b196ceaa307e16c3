"""The catalog tools' statements: what the login can see of schemas, tables and one table.

Each is one read-only statement with parameters, run like any other call; none names an
object by text the agent sent (the names are parameters).
"""

from __future__ import annotations

from typing import Final

# Schemas the login may use, less PostgreSQL's own.
LIST_SCHEMAS: Final = """
select n.nspname as schema,
       pg_catalog.obj_description(n.oid, 'pg_namespace') as comment
from pg_catalog.pg_namespace n
where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
  and pg_catalog.has_schema_privilege(n.oid, 'USAGE')
order by 1
"""

LIST_TABLES: Final = """
select c.relname as name,
       case c.relkind when 'r' then 'table' when 'p' then 'partitioned table'
            when 'v' then 'view' when 'm' then 'materialized view'
            when 'f' then 'foreign table' end as kind,
       greatest(c.reltuples, 0)::bigint as estimated_rows,
       c.relrowsecurity as rls_enabled,
       pg_catalog.has_table_privilege(c.oid, 'SELECT') as can_select,
       pg_catalog.obj_description(c.oid, 'pg_class') as comment
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f')
order by 1
"""

# One row: the table's facts, its columns, keys and indexes as JSON.
DESCRIBE_TABLE: Final = """
select c.relname as name,
       n.nspname as schema,
       greatest(c.reltuples, 0)::bigint as estimated_rows,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       pg_catalog.obj_description(c.oid, 'pg_class') as comment,
       (select coalesce(json_agg(json_build_object(
                  'name', a.attname,
                  'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                  'nullable', not a.attnotnull,
                  'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                  'comment', pg_catalog.col_description(c.oid, a.attnum))
                  order by a.attnum), '[]'::json)
        from pg_catalog.pg_attribute a
        left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
       (select coalesce(json_agg(json_build_object(
                  'name', k.conname,
                  'type', case k.contype when 'p' then 'primary key' when 'f' then 'foreign key'
                          when 'u' then 'unique' when 'c' then 'check'
                          when 'x' then 'exclusion' end,
                  'definition', pg_catalog.pg_get_constraintdef(k.oid, true))
                  order by k.contype, k.conname), '[]'::json)
        from pg_catalog.pg_constraint k where k.conrelid = c.oid) as constraints,
       (select coalesce(json_agg(json_build_object(
                  'name', i.relname,
                  'definition', pg_catalog.pg_get_indexdef(x.indexrelid))
                  order by i.relname), '[]'::json)
        from pg_catalog.pg_index x
        join pg_catalog.pg_class i on i.oid = x.indexrelid
        where x.indrelid = c.oid) as indexes
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p', 'v', 'm', 'f')
"""
