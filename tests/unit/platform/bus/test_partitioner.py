"""The cached partitioner puts every key exactly where aiokafka's default one does."""

from aiokafka.partitioner import DefaultPartitioner

from chargegrid.platform.bus.partitioner import CachedKeyPartitioner


def test_every_key_lands_on_the_default_partition_for_any_partition_count() -> None:
    cached, default = CachedKeyPartitioner(capacity=50), DefaultPartitioner()
    keys = [f"CP-{n}".encode() for n in range(200)] + [b"", "Ünïcode-Ω".encode()]
    for count in (1, 3, 8, 12):
        partitions = list(range(count))
        for _ in range(2):  # the second pass is served from the cache (and its restarts)
            for key in keys:
                assert cached(key, partitions, partitions) == default(key, partitions, partitions)


def test_records_without_a_key_go_to_an_available_partition() -> None:
    assert CachedKeyPartitioner()(None, [0, 1, 2], [2]) == 2
