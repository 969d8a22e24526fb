from collector.readplan import plan_groups, plan_reads
from collector.register_map import Function, RegisterSpec, load_register_map


def reg(name: str, address: int, function: Function = Function.INPUT) -> RegisterSpec:
    return RegisterSpec(name=name, address=address, function=function)


def test_contiguous_registers_become_one_request() -> None:
    blocks = plan_reads(
        [("a", reg("a", 0)), ("b", reg("b", 2)), ("c", reg("c", 4))], max_registers=125
    )
    assert [(b.address, b.count) for b in blocks] == [(0, 6)]
    assert [(s.point, s.offset) for s in blocks[0].slots] == [("a", 0), ("b", 2), ("c", 4)]


def test_gap_splits_unless_the_device_answers_across_it() -> None:
    wanted = [("a", reg("a", 0)), ("b", reg("b", 10))]
    assert len(plan_reads(wanted, max_registers=125)) == 2
    merged = plan_reads(wanted, max_registers=125, max_gap=8)
    assert [(b.address, b.count) for b in merged] == [(0, 12)]


def test_block_never_exceeds_the_device_limit() -> None:
    wanted = [(f"p{i}", reg(f"p{i}", 2 * i)) for i in range(60)]
    blocks = plan_reads(wanted, max_registers=80)
    assert [b.count for b in blocks] == [80, 40]
    assert sum(len(b.slots) for b in blocks) == 60


def test_tables_are_read_separately() -> None:
    blocks = plan_reads(
        [("a", reg("a", 0)), ("b", reg("b", 2, Function.HOLDING))], max_registers=125
    )
    assert {b.function for b in blocks} == {Function.INPUT, Function.HOLDING}


def test_sdm630_points_share_a_request_only_across_allowed_gaps() -> None:
    sdm = load_register_map("eastron_sdm630")
    wanted = [(n, sdm[n]) for n in ("phase_1_voltage", "total_power", "import_energy")]
    assert len(plan_reads(wanted, max_registers=80)) == 3
    assert len(plan_reads(wanted, max_registers=80, max_gap=30)) == 2  # 0x0002..0x0034 is 50
    assert [(b.address, b.count) for b in plan_reads(wanted, max_registers=80, max_gap=50)] == [
        (0x0000, 0x004A)
    ]


def test_points_are_grouped_by_interval_fastest_first() -> None:
    wanted = [
        ("energy", reg("energy", 0x48), 60.0),
        ("power", reg("power", 0x34), 1.0),
        ("voltage", reg("voltage", 0x00), 1.0),
        ("export", reg("export", 0x4A), 60.0),
    ]
    groups = plan_groups(wanted, max_registers=125, max_gap=0)
    assert [g.interval for g in groups] == [1.0, 60.0]
    fast, slow = groups
    assert {s.point for b in fast.blocks for s in b.slots} == {"power", "voltage"}
    assert [(b.address, b.count) for b in slow.blocks] == [(0x48, 4)]  # one request for both


def test_groups_do_not_share_a_request_even_when_adjacent() -> None:
    wanted = [("a", reg("a", 0), 1.0), ("b", reg("b", 2), 10.0)]
    groups = plan_groups(wanted, max_registers=125)
    assert [[(b.address, b.count) for b in g.blocks] for g in groups] == [[(0, 2)], [(2, 2)]]


def test_a_device_limit_smaller_than_the_maps_splits_requests() -> None:
    wanted = [(f"p{i}", reg(f"p{i}", 2 * i), 1.0) for i in range(6)]
    (group,) = plan_groups(wanted, max_registers=4)
    assert [b.count for b in group.blocks] == [4, 4, 4]
