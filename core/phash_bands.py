"""The codes near a pHash, found through indexes: a 64-bit pHash cut in three bands (bits 0-21,
22-42, 43-63), each with an expression index. Two pHashes within 5 bits differ in at most one bit
in one band at least (pigeonhole: 3 bands of 2 or more is 6), so every stored code within 5 bits
of a code has, in some band, the code's value or one of its one-bit neighbours: 67 keys a code.

Used by the conflict checks (a partner's rows against artists' works, and the other way round),
which must be exact: the candidates the keys find are measured (the popcount of the XOR) in the
same statement, so only the pairs within the distance come back.

Why one statement of probes (`near_sql`): the keys of a chunk of 1,000 codes are 67,000. Sent as
arrays and joined, PostgreSQL planned a sort of the whole table per band and a merge join (three
full reads, plus JIT compiling for 150 ms, since the plan's cost passes `jit_above_cost`): 0.29 s
at 100,000 works on an idle machine. As one index probe per key (the keys made in SQL from the
1,000 codes and probed in their order, so that consecutive probes read neighbouring index pages;
a LATERAL subquery fenced by OFFSET 0 so that no statistics turn it back into a join; JIT off for
the statement) it is 0.06 s there, and grows with the probes and the chance candidates they meet,
not with a read of the table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F
from django.db.models.expressions import CombinedExpression

PHASH_BANDS = ((0, 22), (22, 21), (43, 21))
# Two codes within this distance always share a band within one bit (see above).
MAX_DISTANCE = 2 * len(PHASH_BANDS) - 1


def phash_band(band: int, field: str = "phash") -> CombinedExpression:
    """The SQL expression of `band` of a pHash column (the indexes are on exactly this)."""
    shift, width = PHASH_BANDS[band]
    return F(field).bitrightshift(shift).bitand((1 << width) - 1)


def near_sql(*, table: str, columns: Sequence[str], where: str = "") -> str:
    """One statement: the rows of `table` whose `phash` is within a distance of one of the codes.

    Parameters, in order: the codes (a list of int) once per band, each followed by the distance
    (at most MAX_DISTANCE). Each result row is (the code, its distance, *columns); a row near a
    code through two bands comes back twice (the caller keeps one). `where` is SQL on the alias
    `x` (the table's row), without parameters: the predicate a partial index is built on, say.
    """
    selected = ", ".join(f"x.{name}" for name in columns)
    extra = f" AND ({where})" if where else ""
    parts = []
    for shift, width in PHASH_BANDS:
        mask = (1 << width) - 1
        band = f"((x.phash >> {shift}) & ({mask})::bigint)"
        flip = "CASE WHEN f.bit < 0 THEN 0 ELSE 1::bigint << f.bit END"  # the value itself, or one bit off
        key = f"(((c.code >> {shift}) & ({mask})::bigint) # ({flip}))"
        # The keys in order, so that consecutive probes read neighbouring index pages.
        keys = (
            f"SELECT c.code, {key} AS key FROM unnest(%s::bigint[]) AS c(code)"  # noqa: S608 (numbers)
            f" CROSS JOIN generate_series(-1, {width - 1}) AS f(bit) ORDER BY 2"
        )
        parts.append(
            f"SELECT k.code, bit_count((x.phash # k.code)::bit(64)) AS distance, {selected}"  # noqa: S608 (numbers and the caller's names)
            f" FROM ({keys}) AS k"
            f" CROSS JOIN LATERAL (SELECT x.phash, {selected} FROM {table} x"
            f" WHERE {band} = k.key{extra} OFFSET 0) AS x"
            " WHERE bit_count((x.phash # k.code)::bit(64)) <= %s"
        )
    return " UNION ALL ".join(parts)


def near_params(codes: Sequence[int], distance: int) -> list[list[int] | int]:
    """The parameters of near_sql for these codes and this distance."""
    if distance > MAX_DISTANCE:
        raise ValueError(f"the pHash bands find distances up to {MAX_DISTANCE} only")
    params: list[list[int] | int] = []
    for _band in PHASH_BANDS:
        params += [list(codes), distance]
    return params


@contextmanager
def jit_off() -> Iterator[None]:
    """JIT off for the statements inside (and back as it was after): a plan of 67,000 probes costs
    more than jit_above_cost, and compiling it took longer than running it. A setting made local
    lasts until the transaction ends: hence the transaction (a savepoint inside another)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        row = cursor.fetchone()
        yield  # an error rolls the savepoint back, and the setting with it
        cursor.execute("SELECT set_config('jit', %s, true)", [row[0] if row else "on"])
