"""bench/fanout.py's network mode at a tiny size, on the test database and a live daphne: each new
chat reaches exactly the dashboards of its library, and the bench notices when it does not. The
times are the bench's to print; nothing here asserts on them."""

import asyncio
from types import SimpleNamespace

import pytest

from bench import fanout
from bench.common import free_port
from reference.models import LibrarianProfile, Queue

pytestmark = pytest.mark.django_db(transaction=True)


def run_bench(live_daphne, scenario, libraries, per_library, chats, before=None, cover=0):
    """network_desk, then `before(setup)`, a daphne on the test database, and the chats."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    setup = fanout.network_desk(scenario, libraries, per_library, chats, [url], cover=cover)
    if before:
        before(setup)
    live_daphne(env_extra={"RT_LIMITS": "0"}, port=port)
    args = SimpleNamespace(rate=20.0, timeout=10.0, settle=0.2, grace=0.5)
    state, results, phases = asyncio.run(fanout.run(args, setup, [url], log=lambda *a, **k: None))
    return fanout.network_figures(setup, state, results, phases)


def test_each_chat_reaches_its_librarys_dashboards_only(live_daphne):
    figures = run_bench(live_daphne, "network", 2, 2, 3)
    assert figures["chats"] == 3 and figures["dashboards"] == 4
    assert figures["leaks"] == 0 and figures["misses"] == 0
    assert figures["deliveries"] == figures["expected_deliveries"] == 3 * 2
    assert figures["foreign_frames"] == {} and figures["errors"] == {} and figures["chats_failed"] == 0
    assert figures["delivery_ms"]["p99"] is not None
    # Presence and the welcome's colleagues are per library too (staff.<library>).
    assert figures["foreign_presence_frames"] == figures["foreign_colleagues_in_welcomes"] == 0


def test_a_covered_chat_reaches_the_covering_library_too_and_no_other(live_daphne):
    figures = run_bench(live_daphne, "network", 3, 2, 3, cover=1)  # library 0 covers library 1
    assert figures["covered_libraries"] == 1
    assert figures["leaks"] == 0 and figures["misses"] == 0
    assert figures["deliveries"] == figures["expected_deliveries"] == 2 + 4 + 2


def test_one_library_of_all_the_librarians(live_daphne):
    figures = run_bench(live_daphne, "single", 1, 4, 3)
    assert (figures["libraries"], figures["dashboards"], figures["chats"]) == (1, 4, 3)
    assert figures["leaks"] == 0 and figures["misses"] == 0 and figures["deliveries"] == 3 * 4


def test_a_dashboard_that_hears_another_librarys_queue_is_a_leak(live_daphne):
    def also_in_library_1s_queue(setup):
        first = setup["sessions"][setup["libraries"][0]["dashboards"][0]][1]
        LibrarianProfile.objects.get(user__username=first).queues.add(Queue.objects.get(pk=setup["libraries"][1]["queue"]))

    figures = run_bench(live_daphne, "network", 2, 2, 3, before=also_in_library_1s_queue)
    assert figures["leaks"] == 1  # chat 1 is library 1's; chats 0 and 2 are library 0's
    assert figures["leak_examples"] == [{"chat": 1, "library": 1, "to_libraries": [0]}]
    assert figures["misses"] == 0


def test_the_modes_take_their_own_options():
    with pytest.raises(SystemExit):
        fanout.parse_args(["--librarians", "5"])  # the one-queue mode's, without --url
    with pytest.raises(SystemExit):
        fanout.parse_args(["--scenarios", "network,everything"])
    with pytest.raises(SystemExit):
        fanout.parse_args(["--libraries", "3", "--cover", "3"])  # library i covers i + 1: at most 2
    args = fanout.parse_args(["--chats", "3", "--libraries", "2", "--per-library", "2"])
    assert (args.scenarios, args.chats, args.url) == (["network", "single"], 3, None)
    assert fanout.parse_args(["--url", "http://127.0.0.1:8000"]).librarians == 50
